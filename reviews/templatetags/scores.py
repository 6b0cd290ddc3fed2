"""Scores as the ranking pages show them, formatted without the localisation machinery (the
ranking renders hundreds of them per page; floatformat costs ~50 µs each)."""

from django import template

register = template.Library()


@register.filter
def score(value, digits=1):
    """`value` with `digits` decimals and a decimal comma (72,5), or an em dash when there is none."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f}".replace(".", ",")
