"""In headless Chromium: the gradebook of a realistic class (six students, nine quizzes with a missed, an
excused and a late one, a midterm, a final still open and project entries), a score opening the staff attempt
page, a student's own grades page, and a student's results page with per-test feedback for a code-completion
answer after release.

Set DLQUIZ_SCREENSHOTS=1 to (re)write docs/screenshots/gradebook.png, staff-attempt.png, my-grades.png and
results-page.png.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from exams import attempts as attempt_service
from exams import clock, grading
from exams.gradebook import excuse, set_manual_grade
from exams.models import Assessment, Attempt, GradeCategory, ManualGradeItem, Membership, Response
from quizbank.models import Variant
from quizbank.services import save_spec
from tests.conftest import make_user
from tests.test_browser_quiz import _db, browser, context, log_in, screenshot  # noqa: F401 - fixtures
from tests.web_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.browser]

SQUARE_WITH_VISIBLE_TESTS = replace(
    SQUARE_COMPLETION, slug="web-square-visible",
    public_tests="def test_square_of_n():\n    return square(n)\n\ndef test_square_of_minus_n():\n    return square(-n)\n",
    tests="def test_square_of_zero():\n    return square(0)\n\ndef test_square_of_a_half():\n    return square(0.5)\n",
)
PEOPLE = [("sam", "Sam", "Rahimov", "S001"), ("olga", "Olga", "Petrova", "S002"), ("leyla", "Leyla", "Aliyeva", "S003"),
          ("murad", "Murad", "Huseynov", "S004"), ("aysel", "Aysel", "Karimova", "S005"), ("tural", "Tural", "Mammadov", "S006")]
# Percent per student per quiz; None = not taken (missing, counts 0 and is dropped).
QUIZ_SCORES = [
    [92, 85, 78, 88, 95, 70, 83, 90, 87],
    [64, 71, 58, 80, 77, None, 69, 73, 81],
    [100, 96, 91, 88, 94, 97, 90, 99, 93],
    [55, 62, 70, 48, 66, 59, 73, 61, 68],
    [81, 79, 88, 84, 76, 90, 82, 85, 80],
    [73, 68, 80, 75, 70, 72, 77, 66, 79],
]
MIDTERM = [84, 66, 95, 58, 80, 71]
PROJECT = [88, 75, 97, 70, 85, None]  # Tural's project is not entered yet


@pytest.fixture
def realistic_class(course, instructor):
    """The syllabus's categories at 25% each. Scores are stored as submitted attempts (the gradebook reads
    attempts; taking 60 quizzes through the browser would only slow this down): it is the gradebook page
    under test, and the results-page test below takes its quiz through the real services and runner."""
    now = clock.now()
    quizzes_category = course.categories.get(name="Quizzes")
    midterm_category = GradeCategory.objects.create(course=course, name="Midterm", weight=25, position=2)
    final_category = GradeCategory.objects.create(course=course, name="Final", weight=25, position=3)
    project_category = GradeCategory.objects.create(course=course, name="Team project", weight=25, position=0)
    opened = now - timedelta(days=30)
    quizzes = [Assessment.objects.create(course=course, title=f"Quiz {n}", kind=Assessment.QUIZ, category=quizzes_category,
                                         blueprint=[{"templates": ["web-double"]}], time_limit_minutes=30,
                                         opens_at=opened, closes_at=now - timedelta(days=1), due_at=opened + timedelta(days=1),
                                         state=Assessment.PUBLISHED, position=n) for n in range(1, 10)]
    midterm = Assessment.objects.create(course=course, title="Midterm", kind=Assessment.EXAM, category=midterm_category,
                                        blueprint=[{"templates": ["web-double"]}], time_limit_minutes=60, opens_at=opened,
                                        state=Assessment.PUBLISHED, position=20)
    # Open until the end of term and taken by nobody yet: shown "open", never counted as 0.
    Assessment.objects.create(course=course, title="Final", kind=Assessment.EXAM, category=final_category,
                              blueprint=[{"templates": ["web-double"]}], time_limit_minutes=60, opens_at=opened,
                              closes_at=now + timedelta(days=60), state=Assessment.PUBLISHED, position=30)
    project = ManualGradeItem.objects.create(course=course, title="Team project", category=project_category)
    students = []
    for (username, first, last, student_id) in PEOPLE:
        user = make_user(username)
        user.first_name, user.last_name = first, last
        user.save()
        Membership.objects.create(course=course, user=user, role=Membership.STUDENT, student_id=student_id)
        students.append(user)

    def submitted(assessment, student, percent, late_minutes=0):
        submitted_at = (assessment.due_at or opened) + timedelta(minutes=late_minutes) if late_minutes else opened + timedelta(hours=2)
        Attempt.objects.create(assessment=assessment, student=student, number=1, seed=1, started_at=opened,
                               state=Attempt.SUBMITTED, submitted_at=submitted_at, score=percent / 100)

    for student, scores in zip(students, QUIZ_SCORES):
        for quiz, percent in zip(quizzes, scores):
            if percent is not None:
                late = 20 if (student.username, quiz.title) == ("murad", "Quiz 4") else 0
                submitted(quiz, student, percent, late)
    excuse(quizzes[2], students[4], by=instructor, reason="medical certificate")  # Aysel, Quiz 3
    for student, percent in zip(students, MIDTERM):
        submitted(midterm, student, percent)
    for student, points in zip(students, PROJECT):
        if points is not None:
            set_manual_grade(project, student, Decimal(points), by=instructor)
    return {"students": students, "quizzes": quizzes}


def test_the_gradebook_of_a_realistic_class_shows_dropped_excused_late_and_missing_marks(context, course, bank,
                                                                                       instructor, realistic_class):
    page = context.new_page()
    page.set_viewport_size({"width": 1600, "height": 900})  # 18 columns: every one visible without scrolling
    log_in(page, "irene")
    page.goto(f"/courses/{course.pk}/gradebook/")
    table = page.locator("table.gradebook")
    olga = table.locator("tr", has_text="S002")
    assert olga.locator("td.dropped .cell-tag.missing").count() == 1  # her missed Quiz 6 is the dropped one
    assert olga.locator("td.dropped .score").evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
    assert table.locator("tr", has_text="S005").locator(".cell-tag.excused").inner_text() == "excused"
    assert table.locator("tr", has_text="S004").locator(".cell-tag.late").inner_text() == "late −10%"
    assert table.locator(".cell-tag.dropped").count() == 6  # one dropped quiz per student
    assert table.locator(".cell-tag.open").count() == 6  # the final is open for everyone: not a 0
    sam = table.locator("tr", has_text="S001")
    # Quizzes: best 8 of 9 (70 dropped) = 87.25; midterm 84; project 88; the open final is not counted.
    assert sam.locator("td.total").inner_text() == "86.4"
    late_title = table.locator("tr", has_text="S004").locator("td.late").get_attribute("title")
    assert late_title == "Dropped (lowest quiz): not counted; submitted 20 min late: −10% (48.0 → 43.2)"
    assert "best 8 of 9: 9 final so far, lowest dropped" in page.locator("#gradebook-legend").inner_text()
    assert page.locator("#lms-blackboard").get_attribute("class") == "button"  # the highlighted download
    assert page.evaluate("document.querySelector('.table-wrap').scrollWidth <= document.querySelector('.table-wrap').clientWidth")
    screenshot(page, "gradebook")
    sam.locator("a.score").first.click()
    page.wait_for_url("**/manage/attempts/*/")
    assert "Quiz 1, attempt 1" in page.locator("h1").inner_text()


def test_a_student_sees_their_grades_the_dropped_quiz_and_the_total_so_far(context, course, bank, realistic_class):
    Assessment.objects.filter(course=course).update(results_released_at=clock.now() - timedelta(minutes=1))
    page = context.new_page()
    log_in(page, "olga")
    page.click(f"#my-grades-{course.pk}")
    page.wait_for_url("**/grades/")
    quiz6 = realistic_class["quizzes"][5]
    row = page.locator(f"#grade-a{quiz6.pk}")
    assert "Missing: counts 0" in row.inner_text() and row.locator(".cell-tag.dropped").count() == 1
    assert "Open: not counted yet" in page.locator("#my-assessments").inner_text()  # the final
    # Quizzes: her missed Quiz 6 dropped, mean of the other eight 71.625; midterm 66; project 75; final open.
    assert page.locator("#total-so-far").inner_text() == "70.9%"
    assert "best 8 of 9: 9 final so far, lowest dropped" in page.locator("#category-averages").inner_text()
    screenshot(page, "my-grades")


def test_after_release_a_student_sees_per_test_feedback_for_visible_tests_only(context, course, bank, student,
                                                                               instructor):
    save_spec(SQUARE_WITH_VISIBLE_TESTS)
    now = clock.now()
    quiz = make_quiz(course, slugs=["web-double", "web-pick", "web-print", "web-square-visible"], title="Quiz 3",
                     results_released_at=now - timedelta(minutes=1), answers_released_at=now - timedelta(minutes=1))
    attempt = attempt_service.start_attempt(quiz, student)
    attempt_service.attempt_questions(attempt)
    for slot in attempt.slots.select_related("template"):
        key = Variant.objects.get(version=slot.template_version, seed=slot.seed).key
        slug = slot.template.slug
        if slug == "web-double":
            text = f"{key['answer']:g}"  # right, typed as a student would: 8, not 8.0
        elif slug == "web-pick":
            text = str((key["correct_index"] + 1) % 4)  # wrong on purpose
        elif slug == "web-print":
            text = str(key["answer"])
        else:
            text = "return x * abs(x)"  # right for n and 0 and 0.5, wrong for -n
        attempt_service.autosave(attempt, slot.pk, text, user=student)
    attempt_service.submit_attempt(attempt, user=student)
    code = Response.objects.get(attempt=attempt, slot__template__slug="web-square-visible")
    assert grading.grade_code_response(code.pk) is True  # the Celery task body, through the real runner

    page = context.new_page()
    log_in(page, "sam")
    page.goto(f"/attempts/{attempt.pk}/")
    feedback = page.locator(".question", has_text="Complete").locator(".feedback")
    text = feedback.inner_text()
    assert "test_square_of_n: passed" in text and "test_square_of_minus_n: failed" in text
    assert "Hidden tests: 2 of 2 passed." in text
    assert "def square(x):" in page.locator(".question", has_text="Complete").inner_text()  # the given code, around the answer
    assert "test_square_of_zero" not in page.content() and "test_square_of_a_half" not in page.content()
    screenshot(page, "results-page")

    staff_page = context.browser.new_context(base_url=page.url.split("/attempts/")[0]).new_page()
    log_in(staff_page, "irene")
    staff_page.goto(f"/manage/attempts/{attempt.pk}/")
    assert "Key:" in staff_page.locator(".question", has_text="Which is").inner_text()
    assert staff_page.locator(".question", has_text="Complete").locator(".feedback").inner_text().count("passed") >= 2
    screenshot(staff_page, "staff-attempt")
    staff_page.context.close()
