"""After results are released, a student whose answer is the one a named misconception computes reads that
name in the feedback, where the template allows it (`answer.show_misconception: true`); never before release,
never for a template that does not opt in, never for a right answer."""
from __future__ import annotations


import pytest
from django.test import Client
from django.urls import reverse

from exams import clock
from exams.attempts import autosave, start_attempt, submit_attempt
from quizbank import services as bank
from tests.analytics_class import mcq_spec, short_spec
from tests.exams_personas import T0, classroom, fast_passwords, frozen_clock, make_assessment  # noqa: F401

pytestmark = pytest.mark.sandbox


def _result_page(classroom, *, show: bool, released: bool, right: bool = False) -> str:
    bank.save_spec(mcq_spec("fb-mcq", show))
    bank.save_spec(short_spec("fb-short", show))
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["fb-mcq", "fb-short"]}],
                           results_released_at=T0 if released else None)
    attempt = start_attempt(quiz, classroom.student)
    for slot in attempt.slots.select_related("template", "template_version"):
        key = bank.variant_for(slot.template_version, slot.seed).key
        if slot.template.slug == "fb-mcq":
            text = str(key["correct_index"] if right else key["option_sources"].index("misconception:off by one"))
        else:
            text = str(key["answer"] if right else key["misconception_values"]["squared instead"])
        autosave(attempt, slot.pk, text, user=classroom.student)
    submit_attempt(attempt, user=classroom.student)
    clock.advance(minutes=1)
    client = Client()
    client.force_login(classroom.student)
    page = client.get(reverse("exams:attempt", args=[attempt.pk]))
    assert page.status_code == 200
    return page.content.decode()


def test_a_released_wrong_answer_names_the_misconception_it_shows(classroom, frozen_clock):
    html = _result_page(classroom, show=True, released=True)
    assert html.count("data-misconception") == 2
    assert "<strong>off by one</strong>" in html and "<strong>squared instead</strong>" in html


def test_nothing_is_named_before_results_are_released(classroom, frozen_clock):
    html = _result_page(classroom, show=True, released=False)
    assert "data-misconception" not in html and "squared instead" not in html


def test_nothing_is_named_when_the_template_does_not_allow_it(classroom, frozen_clock):
    html = _result_page(classroom, show=False, released=True)
    assert "data-misconception" not in html


def test_a_right_answer_names_no_misconception(classroom, frozen_clock):
    html = _result_page(classroom, show=True, released=True, right=True)
    assert "data-misconception" not in html
