import datetime as dt

from applications.clock import local_instant
from applications.templatetags.deadlines import deadline_text


def test_midnight_deadline_reads_as_the_end_of_the_previous_day():
    assert (
        deadline_text(local_instant(dt.datetime(2013, 10, 31))) == "mercredi 30 octobre 2013 à minuit (heure de Paris)"
    )


def test_other_deadlines_read_with_their_time():
    assert (
        deadline_text(local_instant(dt.datetime(2013, 10, 30, 12)))
        == "mercredi 30 octobre 2013 à 12:00 (heure de Paris)"
    )
