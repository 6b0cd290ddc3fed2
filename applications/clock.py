"""One clock for every deadline decision: the database server's, read at the moment of the check.

Web servers and workers may drift; PostgreSQL is shared by all of them. `clock_timestamp()`
is the real current time, unlike `now()` which is frozen at the start of the transaction.
"""

import datetime as dt

from django.db import connection


def now() -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]
