"""`{% regrade_box attempt slot_id %}`: on a student's results page, the regrade request of one answer (its
state and the staff's reply) or the form to ask for one, when that is still allowed."""
from __future__ import annotations

from typing import Any

from django import template

from exams import regrade_requests

register = template.Library()


@register.inclusion_tag("exams/_regrade_box.html", takes_context=True)
def regrade_box(context: Any, attempt: Any, slot_id: int) -> dict[str, Any]:
    # Read once per page for every question (kept for this render), not three queries per question.
    key = ("regrade-boxes", attempt.pk)
    boxes = context.render_context.get(key)
    if boxes is None:
        boxes = context.render_context[key] = regrade_requests.regrade_boxes(
            attempt, getattr(context.get("request"), "user", None))
    box = boxes.get(int(slot_id), {"regrade": None, "may_request": False})
    return {"attempt": attempt, "slot_id": slot_id, "csrf_token": context.get("csrf_token"), **box}
