"""`|sanitised`: the filter to use instead of `|safe` for authored HTML in a template."""
from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from quizbank.rendering import sanitise_html

register = template.Library()


@register.filter
def sanitised(fragment: str | None) -> SafeString:
    return mark_safe(sanitise_html(fragment))
