"""Roster import: all rows or none, problems reported by line."""
from __future__ import annotations

import pytest

from exams.access import attempt_for_staff, attempt_for_student, courses_for, is_course_staff, role_in
from exams.models import Attempt, Membership
from exams.roster import RosterError, import_roster
from tests.exams_personas import T0, classroom, fast_passwords  # noqa: F401 - fixtures


def test_a_roster_with_a_header_enrols_every_student_with_their_id(classroom):
    data = "\ufeffStudent ID,Name,Email\r\nA100,Leyla Aliyeva,leyla@example.edu\r\nA101,Murad Huseynov,murad@example.edu\r\n"
    result = import_roster(classroom.course, data.encode("utf-8"))
    assert (result.created, result.updated) == (2, 0)
    leyla = Membership.objects.get(course=classroom.course, student_id="A100")
    assert (leyla.role, leyla.user.email, leyla.user.get_full_name()) == ("student", "leyla@example.edu", "Leyla Aliyeva")
    assert not leyla.user.has_usable_password()


def test_importing_the_same_roster_twice_updates_instead_of_duplicating(classroom):
    data = "A100,Leyla Aliyeva,leyla@example.edu\n"
    import_roster(classroom.course, data)
    result = import_roster(classroom.course, data.replace("Leyla Aliyeva", "Leyla Aliyeva-Mammadova"))
    assert (result.created, result.updated) == (0, 1)
    assert Membership.objects.filter(course=classroom.course, student_id="A100").count() == 1


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(classroom):
    data = ("student_id,name,email\n"
            "A100,Leyla Aliyeva,leyla@example.edu\n"
            "A101,,murad@example.edu\n"
            "A102,Aysel Karimova,not-an-email\n"
            "A100,Someone Else,else@example.edu\n")
    with pytest.raises(RosterError) as error:
        import_roster(classroom.course, data)
    assert [(p.line, p.message) for p in error.value.problems] == [
        (3, "missing name"), (4, "'not-an-email' is not an email address"), (5, "student id 'A100' repeats line 2")]
    assert not Membership.objects.filter(course=classroom.course, student_id="A100").exists()


def test_a_student_id_already_used_by_another_person_in_the_course_is_refused(classroom):
    with pytest.raises(RosterError, match="line 1: student id 'S001' already belongs"):
        import_roster(classroom.course, "S001,Impostor,impostor@example.edu\n")


def test_roles_decide_who_is_staff_and_students_only_reach_their_own_attempts(classroom):
    assert role_in(classroom.course, classroom.ta) == "ta" and is_course_staff(classroom.course, classroom.ta)
    assert not is_course_staff(classroom.course, classroom.student)
    assert list(courses_for(classroom.outsider)) == []
    from tests.exams_personas import make_assessment

    quiz = make_assessment(classroom.course)
    attempt = Attempt.objects.create(assessment=quiz, student=classroom.student, seed=1, started_at=T0)
    assert attempt_for_student(classroom.student, attempt.pk) == attempt
    with pytest.raises(Attempt.DoesNotExist):
        attempt_for_student(classroom.other_student, attempt.pk)
    assert attempt_for_staff(classroom.ta, attempt.pk) == attempt
    with pytest.raises(Attempt.DoesNotExist):
        attempt_for_staff(classroom.outsider, attempt.pk)
