"""A roster import changes its own course only: accounts of other courses and staff are never renamed,
re-emailed or re-roled, the course's own staff are never demoted, and the preview shows every change that the
confirmation then applies exactly."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from exams import audit
from exams.models import AuditEvent, Membership
from exams.roster import (
    CREATE, ENROL, SKIP, UNCHANGED, UPDATE, RosterChanged, RosterError, apply_roster, enroll, import_roster,
    plan_roster,
)
from tests.exams_personas import build_classroom, classroom, fast_passwords  # noqa: F401 - fixtures

User = get_user_model()


@pytest.fixture
def neighbours(classroom):
    """Another course, with its own instructor and student."""
    return build_classroom("DL202")


def people_state() -> list[tuple]:
    users = list(User.objects.order_by("pk").values_list("pk", "username", "first_name", "last_name", "email",
                                                         "is_staff"))
    memberships = list(Membership.objects.order_by("pk").values_list("course_id", "user_id", "role", "student_id"))
    return users + memberships


def row(student_id: str, name: str, user) -> str:
    return f"{student_id},{name},{user.email}\n"


def test_another_courses_instructor_and_student_are_enrolled_but_never_renamed_re_emailed_or_re_roled(
        classroom, neighbours):
    data = row("X1", "Mallory Hijack", neighbours.instructor) + row("X2", "Eve Renamed", neighbours.student)
    result = import_roster(classroom.course, data, by=classroom.instructor)
    for person in (neighbours.instructor, neighbours.student):
        fresh = User.objects.get(pk=person.pk)
        assert (fresh.first_name, fresh.last_name, fresh.email) == (person.first_name, person.last_name, person.email)
    assert Membership.objects.get(course=neighbours.course, user=neighbours.instructor).role == Membership.INSTRUCTOR
    assert Membership.objects.get(course=neighbours.course, user=neighbours.student).role == Membership.STUDENT
    here = Membership.objects.filter(course=classroom.course, user__in=[neighbours.instructor, neighbours.student])
    assert sorted(here.values_list("role", "student_id")) == [("student", "X1"), ("student", "X2")]
    assert [change.action for change in result.plan.changes] == [ENROL, ENROL]
    assert all("name not changed" in change.notes[0] for change in result.plan.changes)


def test_a_row_naming_another_courses_account_with_a_new_email_is_refused_and_nothing_is_re_emailed(
        classroom, neighbours):
    before = people_state()
    with pytest.raises(RosterError, match="line 1: the username 'student-dl202' is taken by another account"):
        import_roster(classroom.course, "student-dl202,Eve,attacker@example.edu\n", by=classroom.instructor)
    assert people_state() == before


def test_the_courses_own_ta_and_instructor_listed_as_students_keep_their_role_and_name(classroom):
    data = row("T1", "Demoted Ta", classroom.ta) + row("I1", "Demoted Instructor", classroom.instructor)
    result = import_roster(classroom.course, data, by=classroom.instructor)
    assert Membership.objects.get(course=classroom.course, user=classroom.ta).role == Membership.TA
    assert Membership.objects.get(course=classroom.course, user=classroom.instructor).role == Membership.INSTRUCTOR
    assert User.objects.get(pk=classroom.ta.pk).get_full_name() == classroom.ta.get_full_name()
    assert [(c.action, c.notes) for c in result.plan.changes] == [
        (SKIP, ("Teaching assistant of this course: the roster does not change staff",)),
        (SKIP, ("Instructor of this course: the roster does not change staff",))]
    assert result.memberships == []


def test_a_site_staff_account_already_a_student_here_is_not_renamed(classroom):
    classroom.student.is_staff = True
    classroom.student.save()
    result = import_roster(classroom.course, row("S001", "New Name", classroom.student))
    assert User.objects.get(pk=classroom.student.pk).get_full_name() == classroom.student.get_full_name()
    assert result.plan.changes[0].action == UNCHANGED
    assert "it is a site staff account" in result.plan.changes[0].notes[0]


def test_a_student_who_also_belongs_to_another_course_keeps_their_name_but_takes_this_courses_id(
        classroom, neighbours):
    enroll(neighbours.course, classroom.student, Membership.STUDENT, "B9")
    result = import_roster(classroom.course, row("S777", "Other Name", classroom.student))
    change = result.plan.changes[0]
    assert (change.action, change.before, change.after) == (UPDATE, {"student_id": "S001"}, {"student_id": "S777"})
    assert "it also belongs to another course" in change.notes[0]
    assert User.objects.get(pk=classroom.student.pk).get_full_name() == classroom.student.get_full_name()
    assert Membership.objects.get(course=neighbours.course, user=classroom.student).student_id == "B9"


def test_a_student_of_this_course_alone_is_renamed(classroom):
    result = import_roster(classroom.course, row("S001", "Leyla Aliyeva-Mammadova", classroom.student))
    change = result.plan.changes[0]
    assert (change.action, change.after) == (UPDATE, {"name": "Leyla Aliyeva-Mammadova"})
    assert User.objects.get(pk=classroom.student.pk).get_full_name() == "Leyla Aliyeva-Mammadova"


def test_a_dry_run_changes_nothing_and_lists_every_planned_change(classroom, neighbours):
    data = ("A100,New Person,new@example.edu\n" + row("X1", "Other Instructor", neighbours.instructor)
            + row("S001", "Renamed Student", classroom.student) + row("S002", classroom.other_student.get_full_name(),
                                                                      classroom.other_student)
            + row("T1", "Ta", classroom.ta))
    before = people_state()
    plan = plan_roster(classroom.course, data)
    assert people_state() == before
    assert [(c.line, c.action) for c in plan.changes] == [(1, CREATE), (2, ENROL), (3, UPDATE), (4, UNCHANGED),
                                                         (5, SKIP)]
    assert plan.counts == {CREATE: 1, ENROL: 1, UPDATE: 1, UNCHANGED: 1, SKIP: 1}
    assert not AuditEvent.objects.exists()


def test_confirming_applies_exactly_the_preview_and_records_it_in_the_audit_log(classroom, neighbours):
    data = "A100,New Person,new@example.edu\n" + row("X1", "Other Instructor", neighbours.instructor)
    plan = plan_roster(classroom.course, data)
    result = apply_roster(classroom.course, data, by=classroom.instructor, expected_digest=plan.digest)
    assert (result.created, result.updated) == (1, 1)
    assert Membership.objects.get(course=classroom.course, student_id="A100").user.email == "new@example.edu"
    event = AuditEvent.objects.get(action=audit.ROSTER)
    assert (event.course, event.actor) == (classroom.course, classroom.instructor)
    assert event.after["counts"][CREATE] == 1 and event.after["counts"][ENROL] == 1
    assert [a["action"] for a in event.after["accounts"]] == [CREATE, ENROL]
    assert event.after["accounts"] == [change.as_json() for change in plan.changes]


def test_a_confirmation_is_refused_when_the_accounts_changed_since_the_preview(classroom):
    data = row("S001", "Renamed Student", classroom.student)
    plan = plan_roster(classroom.course, data)
    classroom.student.first_name = "Changed meanwhile"
    classroom.student.save()
    before = people_state()
    with pytest.raises(RosterChanged) as refused:
        apply_roster(classroom.course, data, by=classroom.instructor, expected_digest=plan.digest)
    assert people_state() == before and not AuditEvent.objects.exists()
    assert refused.value.plan.changes[0].before["name"].startswith("Changed meanwhile")


def test_enrolling_an_existing_ta_as_a_student_keeps_the_ta_role_unless_asked(classroom):
    assert enroll(classroom.course, classroom.ta, Membership.STUDENT).role == Membership.TA
    assert Membership.objects.get(course=classroom.course, user=classroom.ta).role == Membership.TA
    assert enroll(classroom.course, classroom.ta, Membership.STUDENT, change_role=True).role == Membership.STUDENT


# --- the staff roster page: upload -> preview -> confirm ----------------------------------------------------
def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, course, text: str):
    return client.post(f"/courses/{course.pk}/roster",
                       {"file": SimpleUploadedFile("roster.csv", text.encode(), content_type="text/csv")})


def confirm_fields(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name in ("roster", "digest")}


def test_the_roster_page_previews_every_planned_change_and_changes_nothing(classroom, neighbours):
    text = "A100,New Person,new@example.edu\n" + row("X1", "Hijack", neighbours.instructor) + row("T1", "Ta", classroom.ta)
    before = people_state()
    response = upload(client_for(classroom.instructor), classroom.course, text)
    page = response.content.decode()
    assert response.status_code == 200 and people_state() == before
    assert page.count('data-action="create"') == 1 and page.count('data-action="enrol"') == 1
    assert page.count('data-action="skip"') == 1 and "the roster does not change staff" in page
    assert "name not changed" in page and 'id="roster-confirm"' in page


def test_confirming_on_the_roster_page_applies_the_preview(classroom, neighbours):
    client = client_for(classroom.instructor)
    text = "A100,New Person,new@example.edu\n" + row("X1", "Hijack", neighbours.instructor)
    fields = confirm_fields(upload(client, classroom.course, text).content.decode())
    response = client.post(f"/courses/{classroom.course.pk}/roster/confirm", fields, follow=True)
    assert "Roster imported: 2 students enrolled (1 new accounts, 1 existing)." in response.content.decode()
    assert Membership.objects.filter(course=classroom.course, student_id__in=["A100", "X1"]).count() == 2
    assert User.objects.get(pk=neighbours.instructor.pk).first_name == neighbours.instructor.first_name
    assert AuditEvent.objects.filter(action=audit.ROSTER, course=classroom.course).count() == 1


def test_a_confirmation_that_no_longer_matches_the_preview_shows_the_new_plan_and_applies_nothing(classroom):
    client = client_for(classroom.instructor)
    fields = confirm_fields(upload(client, classroom.course, row("S001", "Renamed", classroom.student)).content.decode())
    classroom.student.last_name = "Meanwhile"
    classroom.student.save()
    before = people_state()
    response = client.post(f"/courses/{classroom.course.pk}/roster/confirm", fields)
    assert response.status_code == 409 and 'id="roster-changed"' in response.content.decode()
    assert people_state() == before and not AuditEvent.objects.exists()


def test_a_ta_cannot_preview_or_confirm_a_roster(classroom):
    client = client_for(classroom.ta)
    assert upload(client, classroom.course, "A1,Ann Lee,ann@example.edu\n").status_code == 404
    plan = plan_roster(classroom.course, "A1,Ann Lee,ann@example.edu\n")
    response = client.post(f"/courses/{classroom.course.pk}/roster/confirm",
                           {"roster": "QTEsQW5uIExlZSxhbm5AZXhhbXBsZS5lZHUK", "digest": plan.digest})
    assert response.status_code == 404 and not Membership.objects.filter(student_id="A1").exists()


def test_the_import_command_has_a_dry_run_that_lists_every_change_and_changes_nothing(classroom, tmp_path):
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text("A100,New Person,new@example.edu\n" + row("T1", "Ta", classroom.ta), encoding="utf-8")
    before = people_state()
    out = StringIO()
    call_command("import_roster", classroom.course.code, str(roster_file), "--dry-run", stdout=out)
    assert people_state() == before
    assert out.getvalue().splitlines() == [
        "line 1: create account new@example.edu",
        f"line 2: skipped {classroom.ta.email} (Teaching assistant of this course: the roster does not change staff)",
        "dry run: nothing changed"]
