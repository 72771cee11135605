"""The gradebook mid-semester: missing only after close (overrides included), open / in-progress / pending
not counted, late minutes and penalty on the cell, excused removed, and drop-lowest over final quizzes only."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams.gradebook import excuse, gradebook
from exams.models import Assessment, Attempt, GradeCategory
from exams.policy import set_override
from tests.exams_personas import T0, classroom, fast_passwords, frozen_clock, make_assessment  # noqa: F401

DAY = timedelta(days=1)


@pytest.fixture
def nine_quizzes(classroom, frozen_clock):
    """Quiz n opens on day 7n and closes a day later; a midterm and a final open until 'March' (day 60)."""
    course = classroom.course
    quizzes_category = GradeCategory.objects.create(course=course, name="Quizzes", weight=25, drop_lowest=1)
    exams_category = GradeCategory.objects.create(course=course, name="Exams", weight=75, position=1)
    quizzes = [make_assessment(course, f"Quiz {n}", category=quizzes_category, position=n,
                               opens_at=T0 + 7 * n * DAY, closes_at=T0 + (7 * n + 1) * DAY,
                               due_at=T0 + (7 * n + 1) * DAY) for n in range(1, 10)]
    midterm = make_assessment(course, "Midterm", kind=Assessment.EXAM, category=exams_category, position=20,
                              opens_at=T0, closes_at=T0 + 60 * DAY)
    return {"quizzes": quizzes, "midterm": midterm}


def submitted(assessment, student, score: float, *, at=None, pending: int = 0, number: int = 1) -> Attempt:
    at = at or assessment.opens_at + timedelta(minutes=20)
    return Attempt.objects.create(assessment=assessment, student=student, number=number, seed=number,
                                  started_at=at - timedelta(minutes=20), state=Attempt.SUBMITTED, submitted_at=at,
                                  score=score, pending_count=pending)


def in_progress(assessment, student) -> Attempt:
    return Attempt.objects.create(assessment=assessment, student=student, number=2, seed=2,
                                  started_at=assessment.opens_at + timedelta(minutes=1), state=Attempt.IN_PROGRESS)


def cell(course, student, assessment):
    row = next(r for r in gradebook(course).rows if r.user == student)
    return row.cells[f"a{assessment.pk}"]


def row_of(course, student):
    return next(r for r in gradebook(course).rows if r.user == student)


def test_an_open_assessment_with_nothing_submitted_is_open_and_not_counted(classroom, nine_quizzes, frozen_clock):
    frozen_clock.freeze(T0 + DAY)
    midterm = cell(classroom.course, classroom.student, nine_quizzes["midterm"])
    assert (midterm.status, midterm.percent, midterm.is_final) == ("open", None, False)
    assert row_of(classroom.course, classroom.student).weighted_total is None  # not 9%: nothing counts yet


def test_an_assessment_becomes_missing_only_once_its_close_time_has_passed(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    frozen_clock.freeze(quiz.closes_at - timedelta(seconds=1))
    assert cell(classroom.course, classroom.student, quiz).status == "open"
    frozen_clock.freeze(quiz.closes_at)
    missing = cell(classroom.course, classroom.student, quiz)
    assert (missing.status, missing.percent, missing.is_final) == ("missing", 0.0, True)


def test_a_later_close_for_one_student_keeps_their_assessment_open(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    set_override(quiz, classroom.student, closes_at=quiz.closes_at + 2 * DAY, due_at=quiz.closes_at + 2 * DAY)
    frozen_clock.freeze(quiz.closes_at + DAY)
    assert cell(classroom.course, classroom.student, quiz).status == "open"
    assert cell(classroom.course, classroom.other_student, quiz).status == "missing"


def test_extra_minutes_on_an_untimed_assessment_move_the_moment_it_becomes_missing(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    quiz.time_limit_minutes, quiz.due_at = None, None
    quiz.save()
    set_override(quiz, classroom.student, extra_minutes=90)
    frozen_clock.freeze(quiz.closes_at + timedelta(minutes=60))
    assert cell(classroom.course, classroom.student, quiz).status == "open"
    frozen_clock.freeze(quiz.closes_at + timedelta(minutes=90))
    assert cell(classroom.course, classroom.student, quiz).status == "missing"


def test_an_assessment_without_close_or_due_time_is_never_missing(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    quiz.closes_at = quiz.due_at = None
    quiz.save()
    frozen_clock.freeze(T0 + 300 * DAY)
    assert cell(classroom.course, classroom.student, quiz).status == "open"


def test_an_attempt_in_progress_is_not_counted_even_beside_a_graded_one(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    quiz.attempts_allowed = 2
    quiz.save()
    submitted(quiz, classroom.student, 0.6)
    in_progress(quiz, classroom.student)
    frozen_clock.freeze(quiz.opens_at + timedelta(hours=1))
    progress = cell(classroom.course, classroom.student, quiz)
    assert (progress.status, progress.percent, progress.is_final) == ("in_progress", None, False)


def test_a_submission_waiting_for_grading_is_pending_shows_its_score_so_far_and_is_not_counted(
        classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    submitted(quiz, classroom.student, 0.5, pending=2)
    frozen_clock.freeze(quiz.closes_at + DAY)
    pending = cell(classroom.course, classroom.student, quiz)
    assert (pending.status, pending.percent, pending.provisional_percent) == ("pending", None, 50.0)
    assert row_of(classroom.course, classroom.student).category_averages["Quizzes"] is None


def test_a_late_submission_carries_its_minutes_raw_score_and_penalty(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    submitted(quiz, classroom.student, 0.72, at=quiz.due_at + timedelta(minutes=11, seconds=20))
    late = cell(classroom.course, classroom.student, quiz)
    assert (late.late_penalty_percent, late.late_whole_minutes, late.raw_percent) == (10.0, 12, 72.0)
    assert late.percent == pytest.approx(64.8)


def test_lateness_is_measured_against_the_students_own_due_time(classroom, nine_quizzes, frozen_clock):
    quiz = nine_quizzes["quizzes"][0]
    set_override(quiz, classroom.student, due_at=quiz.due_at + DAY, closes_at=quiz.closes_at + DAY)
    submitted(quiz, classroom.student, 0.8, at=quiz.due_at + timedelta(hours=2))
    on_time = cell(classroom.course, classroom.student, quiz)
    assert (on_time.late_penalty_percent, on_time.late_minutes, on_time.percent) == (0.0, 0.0, 80.0)


def test_an_excused_quiz_leaves_the_category_total_so_best_8_of_8_drops_the_lowest_once_all_are_final(
        classroom, nine_quizzes, frozen_clock):
    quizzes = nine_quizzes["quizzes"]
    excuse(quizzes[4], classroom.student, reason="medical")
    for n, quiz in enumerate(quizzes):
        if n != 4:
            submitted(quiz, classroom.student, 0.5 + n * 0.05)
    frozen_clock.freeze(T0 + 80 * DAY)
    row = row_of(classroom.course, classroom.student)
    progress = row.category_progress["Quizzes"]
    assert (progress.total, progress.final, progress.dropping) == (8, 8, 1)
    assert row.dropped == ["Quiz 1"]


def test_mid_semester_nothing_is_dropped_and_the_average_is_the_mean_of_the_final_quizzes(
        classroom, nine_quizzes, frozen_clock):
    quizzes = nine_quizzes["quizzes"]
    for quiz, score in zip(quizzes[:5], [0.2, 0.9, 0.8, 0.7, 0.6]):
        submitted(quiz, classroom.student, score)
    frozen_clock.freeze(quizzes[4].closes_at + DAY)  # five quizzes have closed, four are still to come
    row = row_of(classroom.course, classroom.student)
    progress = row.category_progress["Quizzes"]
    assert (progress.total, progress.keep, progress.final, progress.dropping) == (9, 8, 5, 0)
    assert row.dropped == []
    assert row.category_averages["Quizzes"] == pytest.approx((20 + 90 + 80 + 70 + 60) / 5)


def test_a_quiz_in_progress_does_not_change_the_average_of_the_others(classroom, nine_quizzes, frozen_clock):
    quizzes = nine_quizzes["quizzes"]
    scores = [0.1, 0.3, 0.25, 0.35, 0.2, 0.4, 0.3, 0.33]
    for quiz, score in zip(quizzes[:8], scores):
        submitted(quiz, classroom.student, score)
    frozen_clock.freeze(quizzes[8].opens_at + timedelta(minutes=5))
    before = row_of(classroom.course, classroom.student).category_averages["Quizzes"]
    Attempt.objects.create(assessment=quizzes[8], student=classroom.student, number=1, seed=1,
                           started_at=quizzes[8].opens_at, state=Attempt.IN_PROGRESS)
    during = row_of(classroom.course, classroom.student)
    assert during.category_averages["Quizzes"] == pytest.approx(before) == pytest.approx(sum(scores) * 100 / 8)
    assert during.dropped == []


def test_once_all_nine_are_final_the_lowest_is_dropped_even_a_missing_one(classroom, nine_quizzes, frozen_clock):
    quizzes = nine_quizzes["quizzes"]
    for quiz in quizzes[1:]:
        submitted(quiz, classroom.student, 0.9)
    frozen_clock.freeze(quizzes[8].closes_at)
    row = row_of(classroom.course, classroom.student)
    assert row.cells[f"a{quizzes[0].pk}"].status == "missing"
    assert row.dropped == ["Quiz 1"] and row.category_averages["Quizzes"] == pytest.approx(90.0)
    assert row.category_progress["Quizzes"].final == 9


def test_the_weighted_total_mid_semester_is_over_final_grades_only(classroom, nine_quizzes, frozen_clock):
    quizzes = nine_quizzes["quizzes"]
    submitted(quizzes[0], classroom.student, 0.8)
    frozen_clock.freeze(quizzes[1].closes_at + DAY)  # Quiz 2 missed; the midterm is open until day 60
    row = row_of(classroom.course, classroom.student)
    assert row.cells[f"a{nine_quizzes['midterm'].pk}"].status == "open"
    assert row.category_averages["Exams"] is None
    assert row.weighted_total == pytest.approx(40.0)  # (80 + 0) / 2 quizzes, the only category with grades
