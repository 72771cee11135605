"""`{{ assessment.instructions|instructions_html }}`: an assessment's Markdown instructions, sanitised."""
from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from quizbank.rendering import render_markdown

register = template.Library()


@register.filter
def instructions_html(text: str | None) -> SafeString:
    return mark_safe(render_markdown(text or ""))  # render_markdown sanitises its output
