"""Aggregation: best 8 of 9, missing and excused quizzes, late tiers, manual items, weights; and the CSVs."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams.exports import gradebook_csv, responses_csv
from exams.gradebook import excuse, gradebook, late_penalty_percent, set_manual_grade
from exams.models import Assessment, Attempt, GradeCategory, ManualGradeItem, SYLLABUS_LATE_POLICY
from quizbank.models import Variant
from tests.exams_personas import (  # noqa: F401 - fixtures
    T0, build_bank, classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
)


@pytest.fixture
def syllabus(classroom, frozen_clock):
    """Nine quizzes and a midterm (already opened), project/quizzes/midterm/final at 25% each."""
    course = classroom.course
    categories = {name: GradeCategory.objects.create(course=course, name=name, weight=25, position=i,
                                                     drop_lowest=1 if name == "Quizzes" else 0)
                  for i, name in enumerate(["Team project", "Quizzes", "Midterm", "Final"])}
    quizzes = [make_assessment(course, f"Quiz {n}", category=categories["Quizzes"], position=n) for n in range(1, 10)]
    midterm = make_assessment(course, "Midterm", kind=Assessment.EXAM, category=categories["Midterm"], position=20)
    final = make_assessment(course, "Final", kind=Assessment.EXAM, category=categories["Final"], position=30,
                            opens_at=T0 + timedelta(days=90))
    project = ManualGradeItem.objects.create(course=course, category=categories["Team project"], title="Team project")
    return {"categories": categories, "quizzes": quizzes, "midterm": midterm, "final": final, "project": project}


def scored(assessment, student, score: float, submitted_at=T0 + timedelta(minutes=20), number: int = 1) -> Attempt:
    return Attempt.objects.create(assessment=assessment, student=student, number=number, seed=number, started_at=T0,
                                  deadline=T0 + timedelta(minutes=30), state=Attempt.SUBMITTED,
                                  submitted_at=submitted_at, score=score)


def row_for(book, student):
    return next(row for row in book.rows if row.user == student)


def test_the_lowest_quiz_is_dropped_and_the_quiz_average_is_the_mean_of_the_best_eight(classroom, syllabus):
    for n, quiz in enumerate(syllabus["quizzes"]):
        scored(quiz, classroom.student, 0.5 + n * 0.05)  # Quiz 1 lowest at 50%
    row = row_for(gradebook(classroom.course), classroom.student)
    assert row.dropped == ["Quiz 1"]
    assert row.category_averages["Quizzes"] == pytest.approx(sum(50 + n * 5 for n in range(1, 9)) / 8)


def test_a_quiz_not_taken_counts_zero_once_closed_and_is_therefore_the_one_dropped(classroom, syllabus, frozen_clock):
    for quiz in syllabus["quizzes"][:8]:
        scored(quiz, classroom.student, 0.9)
    frozen_clock.freeze(T0 + timedelta(days=2))  # every quiz has closed
    row = row_for(gradebook(classroom.course), classroom.student)
    missing = row.cells[f"a{syllabus['quizzes'][8].pk}"]
    assert (missing.percent, missing.status, missing.dropped) == (0.0, "missing", True)
    assert row.category_averages["Quizzes"] == pytest.approx(90.0)


def test_an_excused_quiz_leaves_the_mean_and_the_lowest_remaining_one_is_still_dropped(classroom, syllabus):
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    for quiz, score in zip(syllabus["quizzes"][:8], scores):
        scored(quiz, classroom.student, score)
    excuse(syllabus["quizzes"][8], classroom.student, by=classroom.instructor, reason="medical")
    row = row_for(gradebook(classroom.course), classroom.student)
    assert row.cells[f"a{syllabus['quizzes'][8].pk}"].status == "excused"
    assert row.dropped == ["Quiz 8"]  # 20% was the lowest of the eight counted
    assert row.category_averages["Quizzes"] == pytest.approx(sum(s * 100 for s in scores[:7]) / 7)


def test_an_assessment_not_yet_open_is_not_counted_and_the_total_is_over_categories_with_grades(classroom, syllabus):
    for quiz in syllabus["quizzes"]:
        scored(quiz, classroom.student, 0.8)
    scored(syllabus["midterm"], classroom.student, 0.6)
    set_manual_grade(syllabus["project"], classroom.student, Decimal("90"), by=classroom.instructor)
    row = row_for(gradebook(classroom.course), classroom.student)
    assert row.cells[f"a{syllabus['final'].pk}"].status == "not_open"
    assert row.category_averages["Final"] is None
    assert row.weighted_total == pytest.approx((90 + 80 + 60) / 3)


def test_the_weighted_total_uses_the_category_weights(classroom, syllabus):
    for quiz in syllabus["quizzes"]:
        scored(quiz, classroom.student, 1.0)
    scored(syllabus["midterm"], classroom.student, 0.5)
    syllabus["categories"]["Midterm"].weight = 50
    syllabus["categories"]["Midterm"].save()
    row = row_for(gradebook(classroom.course), classroom.student)
    assert row.weighted_total == pytest.approx((25 * 100 + 50 * 50) / 75)


@pytest.mark.parametrize("minutes_late, penalty", [(0, 0), (0.5, 10), (30, 10), (31, 25), (24 * 60, 25),
                                                   (24 * 60 + 1, 100)])
def test_late_tiers_follow_the_syllabus(minutes_late, penalty):
    assert late_penalty_percent(SYLLABUS_LATE_POLICY, T0 + timedelta(minutes=minutes_late), T0) == penalty


def test_a_late_submission_loses_the_tier_percent_of_its_score_and_an_assessment_can_change_the_tiers(classroom, syllabus):
    quiz = syllabus["quizzes"][0]
    quiz.due_at = T0
    quiz.save()
    scored(quiz, classroom.student, 0.8, submitted_at=T0 + timedelta(minutes=45))
    cell = row_for(gradebook(classroom.course), classroom.student).cells[f"a{quiz.pk}"]
    assert (cell.late_penalty_percent, cell.percent) == (25.0, pytest.approx(60.0))
    quiz.late_policy = {"tiers": [{"up_to_minutes": 60, "penalty_percent": 5}], "after_last_tier_percent": 50}
    quiz.save()
    cell = row_for(gradebook(classroom.course), classroom.student).cells[f"a{quiz.pk}"]
    assert cell.percent == pytest.approx(76.0)


def test_the_best_of_several_attempts_counts(classroom, syllabus):
    quiz = syllabus["quizzes"][0]
    scored(quiz, classroom.student, 0.4, number=1)
    scored(quiz, classroom.student, 0.7, number=2)
    assert row_for(gradebook(classroom.course), classroom.student).cells[f"a{quiz.pk}"].percent == pytest.approx(70.0)


def read_csv(chunks) -> tuple[str, list[dict]]:
    text = "".join(chunks)
    return text, list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_gradebook_csv_has_one_row_per_student_with_every_column(classroom, syllabus, frozen_clock):
    for quiz in syllabus["quizzes"][:8]:
        scored(quiz, classroom.student, 0.75)
    excuse(syllabus["midterm"], classroom.other_student)
    frozen_clock.freeze(T0 + timedelta(days=2))  # the quizzes have closed: Quiz 9 is missing
    text, rows = read_csv(gradebook_csv(classroom.course))
    assert text.startswith("\ufeffStudent ID,Name,Email,Quiz 1,")
    assert [row["Student ID"] for row in rows] == ["S001", "S002"]
    mine = rows[0]
    assert mine["Email"] == classroom.student.email
    assert (mine["Quiz 1"], mine["Quiz 9"], mine["Dropped quiz"], mine["Quiz average"]) == ("75.00", "0.00", "Quiz 9", "75.00")
    assert mine["Quizzes (25%)"] == "75.00" and mine["Final"] == "" and mine["Team project"] == ""
    assert rows[1]["Midterm"] == "excused"
    assert list(rows[0]).index("Weighted total") == len(rows[0]) - 1


def test_a_name_that_looks_like_a_formula_is_neutralised_in_the_csv(classroom, syllabus):
    classroom.student.first_name, classroom.student.last_name = "=HYPERLINK(1)", ""
    classroom.student.save()
    _, rows = read_csv(gradebook_csv(classroom.course))
    assert rows[0]["Name"] == "'=HYPERLINK(1)"


def test_the_responses_csv_lists_every_slot_with_template_version_seed_answer_key_and_score(
        classroom, frozen_clock):
    build_bank(mcq=1, short=1, code=0)
    quiz = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "short", "count": 1}])
    attempt = start_attempt(quiz, classroom.student)
    attempt_questions(attempt)
    answers = {}
    for slot in attempt.slots.select_related("template"):
        answers[slot.template.slug] = (slot, correct_text(slot) if slot.template.kind == "mcq" else "wrong")
        autosave(attempt, slot.pk, answers[slot.template.slug][1], user=classroom.student)
    submit_attempt(attempt)
    _, rows = read_csv(responses_csv(quiz))
    assert len(rows) == 2
    by_template = {row["Template"]: row for row in rows}
    short_slot, _ = answers["t-short-0"]
    short_row = by_template["t-short-0"]
    assert (short_row["Student ID"], short_row["Version"], short_row["Seed"]) == ("S001", "1", str(short_slot.seed))
    assert (short_row["Response"], short_row["Score (%)"], short_row["Valid"]) == ("wrong", "0.00", "no")
    key = Variant.objects.get(version=short_slot.template_version, seed=short_slot.seed).key
    assert float(short_row["Correct answer"]) == 2 * key["params"]["a"]
    assert by_template["t-mcq-0"]["Score (%)"] == "100.00" and by_template["t-mcq-0"]["Graded at"]


def test_the_gradebook_csv_gives_late_minutes_and_penalty_and_leaves_grades_not_final_empty(classroom, syllabus):
    quiz = syllabus["quizzes"][0]
    quiz.due_at = T0
    quiz.save()
    scored(quiz, classroom.student, 0.8, submitted_at=T0 + timedelta(minutes=11, seconds=5))
    _, rows = read_csv(gradebook_csv(classroom.course))
    mine = rows[0]
    assert (mine["Quiz 1"], mine["Quiz 1 late (min)"], mine["Quiz 1 late penalty (%)"]) == ("72.00", "12", "10")
    assert (mine["Quiz 2"], mine["Quiz 2 late (min)"], mine["Quiz 2 late penalty (%)"]) == ("", "", "")  # still open
    assert mine["Midterm"] == "" and mine["Final"] == ""
