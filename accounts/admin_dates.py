"""The dates, datetimes and times of a changelist page, written as Django admin writes them but at a
fraction of its cost.

`display_for_value` and `display_for_field` write such a value with
`formats.localize(timezone.template_localtime(value))`, about 40 µs a cell: the language's format is
looked up again, split with a regex, each literal piece unescaped with another, and the month name
translated through gettext. The language and the current time zone are those of the request for a
whole page, so `DateCells` looks each format up once, splits it once into literal pieces (already
unescaped) and format characters, and calls Django's own `DateFormat`/`TimeFormat` method for each
character. A character whose result depends only on the month, the weekday or the hour (the
translated names, a.m./p.m.) is worked out once per page for each of them.

Whatever it is not sure of (a subclass of datetime, a format that Django would refuse for the value's
type) goes back to Django's own function. `accounts/tests/test_admin_dates.py` compares the two.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars
from django.utils.formats import get_format

# What the result of these characters depends on: their (translated) text is kept for the page
# under it, instead of going through gettext for every cell.
_KEYS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys("bEFMN", operator.attrgetter("month")),
    **dict.fromkeys("Dl", operator.methodcaller("weekday")),
    **dict.fromkeys("aA", operator.attrgetter("hour")),
    "P": operator.attrgetter("hour", "minute"),
}
# The characters whose methods read the time zone that `TimeFormat.__init__` works out for a
# datetime (two UTC offsets, 2 µs: as long as the rest of the format): a format without them skips
# it. Its formatter then has no `timezone` attribute at all, so a method that would read it anyway
# raises AttributeError, and the value goes back to Django rather than being written wrong.
_ZONED = frozenset("eIOTZr")

_FORMATS = {
    datetime.datetime: ("DATETIME_FORMAT", DateFormat),
    datetime.date: ("DATE_FORMAT", DateFormat),
    datetime.time: ("TIME_FORMAT", TimeFormat),
}


class Pattern:
    """One format string, split once as `Formatter.format` splits it on every call (the check it
    makes on a date's characters is DateCells')."""

    def __init__(self, format_string: str, formatter: type[TimeFormat]):
        self.formatter = formatter
        # A literal piece as a str; a format character as (its method, its key or None, its texts by key).
        self.parts: list[str | tuple[Callable, Callable | None, dict]] = []
        self.characters: set[str] = set()
        for index, piece in enumerate(re_formatchars.split(format_string)):
            if index % 2:
                # AttributeError for a date character in a time format, as Django's own call raises.
                self.parts.append((getattr(formatter, piece), _KEYS.get(piece), {}))
                self.characters.add(piece)
            elif piece:
                self.parts.append(re_escaped.sub(r"\1", piece))
        self.zoned = not self.characters.isdisjoint(_ZONED)

    def format(self, value) -> str:
        """`dateformat.format(value, format_string)` (or `time_format` for a TimeFormat pattern)."""
        if self.zoned:
            formatter = self.formatter(value)
        else:
            formatter = self.formatter.__new__(self.formatter)
            formatter.data = value
        pieces = []
        for part in self.parts:
            if type(part) is str:
                pieces.append(part)
                continue
            method, key, texts = part
            if key is None:
                pieces.append(str(method(formatter)))
                continue
            known = key(value)
            text = texts.get(known)
            if text is None:
                text = texts[known] = str(method(formatter))
            pieces.append(text)
        return "".join(pieces)


class DateCells:
    """The dates, datetimes and times of one page (one language, one current time zone)."""

    def __init__(self):
        self.zone = timezone.get_current_timezone() if settings.USE_TZ else None
        self._patterns: dict[type, Pattern | None] = {}

    def _pattern(self, kind: type) -> Pattern | None:
        format_type, formatter = _FORMATS[kind]
        try:
            pattern = Pattern(str(get_format(format_type)), formatter)
        except AttributeError:
            pattern = None
        if kind is datetime.date and pattern is not None and any(hasattr(TimeFormat, c) for c in pattern.characters):
            pattern = None  # Django refuses time characters for a date (TypeError): let it
        self._patterns[kind] = pattern
        return pattern

    def localize(self, value, *, localtime: bool = True) -> str | None:
        """`formats.localize(timezone.template_localtime(value))`, or `formats.localize(value)`
        without `localtime` (DateField and TimeField columns); None for a value to leave to Django."""
        kind = type(value)
        if kind not in _FORMATS:
            return None
        # template_localtime: only aware datetimes move to the current time zone (an exact datetime
        # cannot carry the `convert_to_local_time` attribute that opts out).
        if localtime and kind is datetime.datetime and self.zone is not None and value.utcoffset() is not None:
            value = value.astimezone(self.zone)
        pattern = self._patterns[kind] if kind in self._patterns else self._pattern(kind)
        if pattern is None:
            return None
        try:
            return pattern.format(value)
        except AttributeError:  # a method reading the time zone a light formatter does not have
            return None
