"""Assembly: deterministic per student, no template twice, shuffled, clear errors when the bank is short."""
from __future__ import annotations

import pytest

from exams.assembly import AssemblyError, attempt_seed, check_blueprint, plan_questions, publish_assessment
from exams.attempts import start_attempt
from exams.models import Assessment
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, fast_passwords, frozen_clock, make_assessment, spec_for,
)
from quizbank import services as bank


def slugs(plan) -> list[str]:
    return [planned.template.slug for planned in plan]


def test_the_same_student_and_attempt_number_always_get_the_same_questions_and_seeds(classroom):
    build_bank(mcq=8, short=6, code=6)
    quiz = make_assessment(classroom.course)
    seed = attempt_seed(quiz, classroom.student, 1)
    first, second = plan_questions(quiz, seed), plan_questions(quiz, seed)
    assert [(p.template.slug, p.seed) for p in first] == [(p.template.slug, p.seed) for p in second]


def test_seeds_differ_between_students_and_between_attempts(classroom):
    quiz = make_assessment(classroom.course)
    seeds = {attempt_seed(quiz, classroom.student, 1), attempt_seed(quiz, classroom.other_student, 1),
             attempt_seed(quiz, classroom.student, 2)}
    assert len(seeds) == 3


def test_an_attempt_follows_the_blueprint_counts_and_never_repeats_a_template(classroom):
    build_bank(mcq=6, short=5, code=5)
    quiz = make_assessment(classroom.course)
    plan = plan_questions(quiz, 12345)
    assert len(plan) == 10
    assert len(set(slugs(plan))) == 10
    assert sorted(p.qtype for p in plan) == ["code"] * 3 + ["mcq"] * 4 + ["short"] * 3


def test_question_order_is_shuffled_per_student(classroom):
    build_bank(mcq=4, short=3, code=3)  # exactly enough: every student gets the same ten templates
    quiz = make_assessment(classroom.course)
    orders = {tuple(slugs(plan_questions(quiz, seed))) for seed in range(20)}
    assert len(orders) > 1
    assert all(sorted(order) == sorted(next(iter(orders))) for order in orders)


def test_only_active_templates_from_the_lecture_range_with_the_tags_are_drawn(classroom):
    build_bank(mcq=0, short=2, code=0, lectures=(5,), prefix="in")
    build_bank(mcq=0, short=3, code=0, lectures=(9,), prefix="out")
    tagged = bank.save_spec(spec_for("in-tagged", "short", "short", (6,), tags=("cnn",)))
    inactive = bank.save_spec(spec_for("in-inactive", "short", "short", (5,)))
    inactive.is_active = False
    inactive.save()
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "short", "count": 3, "lectures": [5, 6]}])
    for seed in range(10):
        assert set(slugs(plan_questions(quiz, seed))) == {"in-short-0", "in-short-1", tagged.slug}
    tag_quiz = make_assessment(classroom.course, "Tagged", blueprint=[{"qtype": "short", "count": 1, "tags": ["cnn"]}])
    assert slugs(plan_questions(tag_quiz, 1)) == ["in-tagged"]


def test_fixed_templates_are_always_included(classroom):
    build_bank(mcq=0, short=4, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["t-short-2"]},
                                                        {"qtype": "short", "count": 2, "lectures": [1, 1]}])
    for seed in range(10):
        plan = slugs(plan_questions(quiz, seed))
        assert "t-short-2" in plan and len(set(plan)) == 3


def test_a_blueprint_the_bank_cannot_satisfy_names_what_is_missing(classroom):
    build_bank(mcq=4, short=1, code=3)
    quiz = make_assessment(classroom.course, "Quiz 1")
    with pytest.raises(AssemblyError) as error:
        plan_questions(quiz, 1)
    assert error.value.problems == [
        "Quiz 1: needs 3 short-answer question(s) from lectures 1-3, the bank has 1 "
        "(active templates with a version: t-short-0)"]
    assert check_blueprint(quiz) == error.value.problems


def test_publishing_refuses_an_assessment_the_bank_cannot_assemble_and_leaves_it_draft(classroom):
    quiz = make_assessment(classroom.course, publish=False)
    with pytest.raises(AssemblyError, match="multiple-choice"):
        publish_assessment(quiz)
    quiz.refresh_from_db()
    assert quiz.state == Assessment.DRAFT


def test_publishing_queues_pregeneration_after_commit(classroom, django_capture_on_commit_callbacks, monkeypatch):
    build_bank()
    sent = []
    from exams import dispatch

    monkeypatch.setattr(dispatch, "send", lambda name, *args, **options: sent.append((name, *args)))
    quiz = make_assessment(classroom.course, publish=False)
    with django_capture_on_commit_callbacks(execute=True):
        publish_assessment(quiz)
    quiz.refresh_from_db()
    assert quiz.state == Assessment.PUBLISHED and quiz.pregen_state == Assessment.PREGEN_QUEUED
    assert sent == [("exams.pregenerate_assessment", quiz.pk)]


def test_pregeneration_fills_the_variant_cache_for_every_student_and_records_progress(classroom, frozen_clock):
    from exams.tasks import pregenerate_assessment_task
    from quizbank.models import Variant

    build_bank(mcq=1, short=1, code=1)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "short", "count": 1},
                                                        {"qtype": "code", "count": 1}])
    pregenerate_assessment_task(quiz.pk)  # the task function, called directly; the real runner generates
    quiz.refresh_from_db()
    assert quiz.pregen_state == Assessment.PREGEN_DONE
    assert quiz.pregen_total == 6 and quiz.pregen_done == 6  # two students x three questions
    attempt = start_attempt(quiz, classroom.student)
    for slot in attempt.slots.all():
        assert Variant.objects.filter(version=slot.template_version, seed=slot.seed).exists()


def test_each_slot_stores_the_template_version_and_its_seed(classroom, frozen_clock):
    build_bank()
    quiz = make_assessment(classroom.course)
    attempt = start_attempt(quiz, classroom.student)
    plan = plan_questions(quiz, attempt.seed)
    assert [(s.template_id, s.template_version_id, s.seed) for s in attempt.slots.order_by("position")] == \
        [(p.template.pk, p.version.pk, p.seed) for p in plan]
