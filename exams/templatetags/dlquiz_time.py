"""`|when`: one way to show a moment to students and staff, always with its year and its time zone.

    {{ attempt.submitted_at|when }}          Tue 3 Feb 2026, 23:00 +04 (Asia/Baku)
    {{ assessment.closes_at|when:"short" }}  3 Feb 2026, 23:00 +04
    {{ event.created_at|when:"seconds" }}    3 Feb 2026, 23:00:05 +04

Shown in the site's time zone (settings.TIME_ZONE, or the one activated for the request). None gives "",
so `|default:"—"` still works after it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


def utc_offset(offset: timedelta | None) -> str:
    """+04, +05:30, -03:30, +00: the form time zones are written in (ISO 8601 / tzdata abbreviations)."""
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")


@register.filter
def when(value: datetime | date | None, style: str = "") -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return f"{value:%a} {value.day} {value:%b %Y}" if isinstance(value, date) else str(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    local = timezone.localtime(value)
    clock = f"{local:%H:%M:%S}" if style == "seconds" else f"{local:%H:%M}"
    day = f"{local.day} {local:%b %Y}"
    offset = utc_offset(local.utcoffset())
    if style in ("short", "seconds"):
        return f"{day}, {clock} {offset}"
    return f"{local:%a} {day}, {clock} {offset} ({local.tzinfo})"
