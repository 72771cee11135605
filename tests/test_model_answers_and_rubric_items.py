"""A manually graded question's model answer is its own template part, rendered for each student's variant:
graders read it beside every response, the student reads it after answers are released, and neither the model
answer nor the rubric reaches the browser before that. Rubrics can be written as point-valued items."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from exams import clock, rubrics
from quizbank.engine import generate
from quizbank.notebooks import read_notebook, write_notebook
from quizbank.selftest import selftest
from quizbank.services import save_spec, variant_for
from quizbank.spec import TemplateSpec, check_static
from tests.specs import MANUAL_SHORT
from tests.web_fixtures import *  # noqa: F403

ITEMS = [{"points": 2, "text": "Names the product of sigmoid derivatives"},
         {"points": 1, "text": "Gives the bound 0.25 to the power of the depth"},
         {"points": -1, "text": "Claims ReLU saturates like sigmoid"}]
DEPTH_EXPLAINED = TemplateSpec(
    slug="model-answer-depth", title="Explain vanishing gradients", kind="short", qtype="short", lectures=(5,),
    parameters="depth = rng.randint(10, 30)\n",
    stem="Why do gradients vanish in a {{ depth }}-layer sigmoid network?",
    answer={"format": "manual", "rubric": ITEMS, "max_words": 120},
    explanation="Each layer multiplies the gradient by at most 1/4.",
    model_answer="MODEL: {{ depth }} factors of at most 0.25 give at most {{ (0.25 ** depth)|num }}.",
)


def test_the_model_answer_is_rendered_with_each_variants_own_numbers_and_kept_out_of_the_public_part():
    for seed in (0, 1, 2):
        variant = generate(DEPTH_EXPLAINED, seed)
        depth = variant.key["params"]["depth"]
        assert f"MODEL: {depth} factors" in variant.key["model_answer_html"]
        assert "MODEL" not in str(variant.public) and "sigmoid derivatives" not in str(variant.public)


def test_the_model_answer_cell_survives_a_notebook_round_trip(tmp_path: Path):
    path = tmp_path / "model-answer-depth.ipynb"
    write_notebook(DEPTH_EXPLAINED, path)
    assert read_notebook(path) == DEPTH_EXPLAINED
    assert '"model-answer"' in path.read_text()


def test_a_template_without_a_model_answer_keeps_the_content_hash_it_had_before_the_part_existed():
    assert "model_answer" not in MANUAL_SHORT.to_dict()
    assert "model_answer" in DEPTH_EXPLAINED.to_dict()


def test_rubric_items_must_each_have_points_and_a_text():
    broken = replace(DEPTH_EXPLAINED, answer={"format": "manual", "rubric": [{"points": "two", "text": "x"}]})
    assert any("rubric item 1" in problem.message for problem in check_static(broken))
    only_penalties = replace(DEPTH_EXPLAINED, answer={"format": "manual", "rubric": [{"points": -1, "text": "x"}]})
    assert any("positive points" in problem.message for problem in check_static(only_penalties))
    assert check_static(DEPTH_EXPLAINED) == []


def test_the_self_test_asks_for_a_model_answer_and_rubric_items_and_accepts_an_explained_warning():
    kinds = {warning.category for warning in selftest(MANUAL_SHORT, seeds=4).warnings}
    assert {"model-answer", "rubric-items"} <= kinds
    assert selftest(DEPTH_EXPLAINED, seeds=4).warnings == []
    explained = replace(MANUAL_SHORT, notes="warning model-answer: the explanation is the model answer here")
    report = selftest(explained, seeds=4)
    assert "model-answer" not in {w.category for w in report.warnings}
    assert [(w.category, why) for w, why in report.explained] == [
        ("model-answer", "the explanation is the model answer here")]


@pytest.fixture
def depth_quiz(course):
    template = save_spec(DEPTH_EXPLAINED)
    return make_quiz(course, slugs=[DEPTH_EXPLAINED.slug]), template  # noqa: F405


def test_rubric_items_come_from_the_point_valued_list(depth_quiz):
    quiz, template = depth_quiz
    items = rubrics.items_for(quiz, template)
    assert [(item.points, item.text) for item in items] == [(2.0, ITEMS[0]["text"]), (1.0, ITEMS[1]["text"]),
                                                           (-1.0, ITEMS[2]["text"])]


def _submitted(quiz, student, text: str):
    from exams import attempts as attempt_service

    attempt = attempt_service.start_attempt(quiz, student)
    slot = attempt.slots.get()
    attempt_service.autosave(attempt, slot.pk, text, user=student)
    attempt_service.submit_attempt(attempt, user=student)
    return attempt, slot


def test_graders_see_the_variants_model_answer_beside_the_response(depth_quiz, ta, student):
    quiz, template = depth_quiz
    _, slot = _submitted(quiz, student, "Because sigmoid saturates.")
    depth = variant_for(slot.template_version, slot.seed).key["params"]["depth"]
    page = logged_in(ta).get(  # noqa: F405
        f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/").content.decode()
    assert f"MODEL: {depth} factors of at most 0.25" in page


def test_the_student_reads_the_model_answer_after_answers_are_released_and_never_the_rubric(depth_quiz, student):
    quiz, _ = depth_quiz
    attempt, _ = _submitted(quiz, student, "Because sigmoid saturates.")
    client = logged_in(student)  # noqa: F405
    before = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "MODEL:" not in before and "Names the product" not in before
    quiz.results_released_at = quiz.answers_released_at = clock.now()
    quiz.save()
    after = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Model answer" in after and "MODEL: " in after
    assert "Names the product" not in after and "Claims ReLU" not in after
