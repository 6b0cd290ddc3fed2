"""One clock for every deadline decision: the database server's, read at the moment of the check.

Web servers and workers may drift; PostgreSQL is shared by all of them. `clock_timestamp()`
is the real current time, unlike `now()` which is frozen at the start of the transaction.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection


def now() -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def local_instant(naive: dt.datetime, zone: str = "Europe/Paris") -> dt.datetime:
    """A wall-clock time in `zone` as an aware instant; refuses times that do not exist
    (spring forward) or happen twice (fall back), which would make a deadline ambiguous."""
    tz = ZoneInfo(zone)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
        problem = "n'existe pas" if round_trip != naive else "est ambiguë"
        raise ValueError(f"L'heure {naive:%d/%m/%Y %H:%M} {problem} à Paris (changement d'heure).")
    return first
