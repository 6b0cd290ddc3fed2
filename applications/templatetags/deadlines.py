import datetime as dt

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def deadline_text(moment: dt.datetime) -> str:
    """A deadline as applicants read it. A deadline at midnight Paris time is the end of the
    day before ("remis au plus tard le 30 octobre"), not the start of the 31st."""
    local = timezone.localtime(moment)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        last_day = local - dt.timedelta(days=1)
        return f"{formats.date_format(last_day, 'l j F Y')} à minuit (heure de Paris)"
    return f"{formats.date_format(local, 'l j F Y à H:i')} (heure de Paris)"
