"""Dates in admin lists (accounts.admin_dates): a page's formatter writes every date, datetime and
time exactly as `display_for_value` and `display_for_field` do, whatever the language, the current
time zone, the value's own time zone or a daylight saving change; what it is not sure of it leaves
to Django."""

import datetime
import zoneinfo

import pytest
from django.utils import dateformat, formats, timezone, translation

from accounts import admin_dates
from accounts.admin_dates import DateCells, Pattern

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = datetime.UTC
# Paris moves from 02:00 to 03:00 on 2024-03-31 (02:30 does not exist) and from 03:00 back to
# 02:00 on 2024-10-27 (02:30 happens twice: fold 0, then fold 1).
SPRING, AUTUMN = datetime.date(2024, 3, 31), datetime.date(2024, 10, 27)


def naive_datetimes():
    for month in range(1, 13):
        for hour in (0, 12, 23):
            for minute in (0, 30):
                yield datetime.datetime(2024, month, 1 + month, hour, minute)
    for day in range(1, 8):  # every weekday
        yield datetime.datetime(2025, 9, day, 9, 5, 7, 123456)
    yield datetime.datetime(1999, 12, 31, 23, 59, 59)
    yield datetime.datetime(2024, 2, 29, 11, 59)
    for day in (SPRING, AUTUMN):
        for hour in range(4):
            for fold in (0, 1):
                yield datetime.datetime(day.year, day.month, day.day, hour, 30, fold=fold)


def datetimes():
    for naive in naive_datetimes():
        yield naive
        yield naive.replace(tzinfo=PARIS)  # including the missing and the doubled hour
        yield naive.replace(tzinfo=UTC)
        yield naive.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)))
    for day in (SPRING, AUTUMN):  # the instants around each change, seen from Paris
        start = datetime.datetime(day.year, day.month, day.day, tzinfo=UTC)
        for quarter in range(16):
            yield start + datetime.timedelta(minutes=15 * quarter)


def dates():
    for month in range(1, 13):
        yield datetime.date(2024, month, 1)
        yield datetime.date(2023, month, 28)
    for day in range(1, 8):
        yield datetime.date(2025, 9, day)
    yield SPRING
    yield AUTUMN


def times():
    for hour in (0, 1, 2, 11, 12, 13, 23):
        for minute in (0, 30):
            yield datetime.time(hour, minute)
    yield datetime.time(2, 30, 15, 999999, tzinfo=PARIS)
    yield datetime.time(12, 0, tzinfo=UTC)


VALUES = [*datetimes(), *dates(), *times()]


@pytest.fixture(params=["fr", "en"])
def language(request):
    with translation.override(request.param):
        yield request.param


@pytest.fixture(params=[None, "America/New_York", "Asia/Kolkata", "UTC"])
def current_timezone(request):
    """The default time zone (Europe/Paris), or another one activated for the request."""
    if request.param is None:
        yield timezone.get_default_timezone_name()
        return
    with timezone.override(request.param):
        yield request.param


@pytest.mark.parametrize("use_tz", [True, False])
def test_a_page_writes_every_value_as_django_does(settings, language, current_timezone, use_tz):
    settings.USE_TZ = use_tz
    cells = DateCells()  # one page: its language and current time zone

    for value in VALUES:
        # display_for_value, and display_for_field for a DateTimeField: moved to local time.
        assert cells.localize(value) == formats.localize(timezone.template_localtime(value)), value
        # display_for_field for a DateField or TimeField: as it is.
        assert cells.localize(value, localtime=False) == formats.localize(value), value


def test_the_page_formats_are_those_of_the_language(language):
    cells = DateCells()
    value = datetime.datetime(2024, 8, 1, 0, 0, tzinfo=UTC)
    expected = {"fr": "1 août 2024 02:00", "en": "Aug. 1, 2024, 2 a.m."}[language]

    assert cells.localize(value) == expected


# Every format character, and escaped ones and a backslash as literals.
EVERY_CHARACTER = r"aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ \d\a\t\e\: \\ jS \o\f F, à"
DATE_CHARACTERS = r"bcdDEFIjlLmMnNorStUwWyYz \j\o\u\r l, jS \o\f F Y"
TIME_CHARACTERS = r"aAefgGhHiOPsTuZ \h\e\u\r\e: H\hi"


def test_a_pattern_writes_every_character_as_dateformat_does(language):
    # One pattern for all values: the texts it keeps by month, weekday and hour are reused.
    every, for_dates, for_times = (
        Pattern(EVERY_CHARACTER, dateformat.DateFormat),
        Pattern(DATE_CHARACTERS, dateformat.DateFormat),
        Pattern(TIME_CHARACTERS, dateformat.TimeFormat),
    )
    for value in VALUES:
        if isinstance(value, datetime.datetime):
            assert every.format(value) == dateformat.format(value, EVERY_CHARACTER), value
            assert every.format(value.astimezone(PARIS)) == dateformat.format(value.astimezone(PARIS), EVERY_CHARACTER)
        elif isinstance(value, datetime.date):
            assert for_dates.format(value) == dateformat.format(value, DATE_CHARACTERS), value
        else:
            assert for_times.format(value) == dateformat.time_format(value, TIME_CHARACTERS), value


@pytest.mark.parametrize("character", "aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ")
def test_a_pattern_of_one_character_writes_it_as_dateformat_does(character):
    # Alone, a character that reads the time zone is the only reason for the pattern to work it out.
    pattern = Pattern(character, dateformat.DateFormat)
    for value in datetimes():
        assert pattern.format(value) == dateformat.format(value, character), value


@pytest.mark.parametrize(
    ("format_type", "format_string", "value"),
    [
        ("DATE_FORMAT", "j F Y H:i", datetime.date(2024, 5, 1)),  # Django refuses time characters for a date
        ("TIME_FORMAT", "j F H:i", datetime.time(10, 0)),  # and date characters for a time
    ],
)
def test_formats_django_would_refuse_are_left_to_it(monkeypatch, format_type, format_string, value):
    monkeypatch.setattr(admin_dates, "get_format", lambda asked: format_string if asked == format_type else asked)

    assert DateCells().localize(value, localtime=False) is None


def test_other_values_are_left_to_django():
    class Moment(datetime.datetime):
        pass

    cells = DateCells()

    assert cells.localize(Moment(2024, 5, 1, 10, tzinfo=UTC)) is None
    assert cells.localize("2024-05-01") is None
    assert cells.localize(None) is None
