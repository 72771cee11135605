"""`{% regrade_box attempt slot_id %}`: on a student's results page, the regrade request of one answer (its
state and the staff's reply) or the form to ask for one, when that is still allowed."""
from __future__ import annotations

from typing import Any

from django import template

from exams import regrade_requests
from exams.models import RegradeRequest, Response

register = template.Library()


@register.inclusion_tag("exams/_regrade_box.html", takes_context=True)
def regrade_box(context: Any, attempt: Any, slot_id: int) -> dict[str, Any]:
    response = (Response.objects.select_related("attempt__assessment").filter(attempt=attempt, slot_id=slot_id)
                .first())
    request = RegradeRequest.objects.filter(response=response).first() if response is not None else None
    student = getattr(context.get("request"), "user", None)
    return {"attempt": attempt, "slot_id": slot_id, "regrade": request, "csrf_token": context.get("csrf_token"),
            "may_request": response is not None and request is None
            and regrade_requests.may_request(response, student)}
