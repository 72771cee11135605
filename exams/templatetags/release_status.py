"""`{% release_lines assessment as lines %}`: what a student is told about the release of results and answers
("Results released on …", "Answers will be released on …")."""
from __future__ import annotations

from django import template

from exams import authoring
from exams.models import Assessment
from exams.templatetags.dlquiz_time import when

register = template.Library()


def release_sentences(assessment: Assessment) -> list[str]:
    state = authoring.release_state(assessment)
    lines = []
    for what, at, released in (("Results", state.results_at, state.results_released),
                               ("Answers", state.answers_at, state.answers_released)):
        if released:
            lines.append(f"{what} released on {when(at, 'short')}.")
        elif at is not None:
            lines.append(f"{what} will be released on {when(at, 'short')}.")
        else:
            lines.append(f"{what} are not released yet.")
    return lines


@register.simple_tag
def release_lines(assessment: Assessment) -> list[str]:
    return release_sentences(assessment)
