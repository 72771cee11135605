"""Changes made in the Django admin are recorded in the audit log too: template edits, releases, excusals,
memberships; and grades cannot be edited there at all (the grading page applies the override rules)."""
from __future__ import annotations

from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from exams import audit
from exams.models import Assessment, AuditEvent, Excusal, Membership, Response
from quizbank import services
from quizbank.models import Template
from tests.exams_personas import T0, classroom, fast_passwords, make_assessment  # noqa: F401 - fixtures
from tests.specs import SOFTMAX_SHORT
from tests.test_template_admin import form_data


def admin_request(user):
    request = RequestFactory().post("/admin/")
    request.user = user
    return request


def test_editing_a_template_in_the_admin_records_who_made_the_new_version(admin_client, admin_user):
    template = services.save_spec(SOFTMAX_SHORT)
    response = admin_client.post(reverse("admin:quizbank_template_change", args=[template.pk]),
                                 form_data(SOFTMAX_SHORT, title="Softmax probability of class 0"))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=audit.TEMPLATE_EDIT)
    assert (event.course, event.actor) == (None, admin_user)
    assert (event.before["version"], event.after["version"]) == (1, 2)
    assert Template.objects.get(pk=template.pk).current_version.number == 2


def test_releasing_results_in_the_assessment_admin_is_recorded(classroom):
    quiz = make_assessment(classroom.course, blueprint=[])
    quiz.results_released_at = T0
    site._registry[Assessment].save_model(admin_request(classroom.instructor), quiz, None, True)
    event = AuditEvent.objects.get(action=audit.RELEASE)
    assert (event.actor, event.course, event.after["results_released_at"]) == (
        classroom.instructor, classroom.course, T0.isoformat())
    site._registry[Assessment].save_model(admin_request(classroom.instructor), quiz, None, True)
    assert AuditEvent.objects.filter(action=audit.RELEASE).count() == 1  # saved again unchanged: nothing new


def test_excusals_and_memberships_changed_in_the_admin_are_recorded(classroom):
    quiz = make_assessment(classroom.course, blueprint=[])
    excusal = Excusal(assessment=quiz, student=classroom.student, reason="flu")
    excusals = site._registry[Excusal]
    excusals.save_model(admin_request(classroom.instructor), excusal, None, False)
    excusals.delete_model(admin_request(classroom.instructor), excusal)
    added, removed = (AuditEvent.objects.get(action=audit.EXCUSAL_ADD), AuditEvent.objects.get(action=audit.EXCUSAL_REMOVE))
    assert (added.course, added.after["student"], added.after["reason"]) == (classroom.course, classroom.student.pk, "flu")
    assert removed.after == {"deleted": True, "student": classroom.student.pk} and not Excusal.objects.exists()
    membership = Membership.objects.get(course=classroom.course, user=classroom.ta)
    membership.role = Membership.STUDENT
    site._registry[Membership].save_model(admin_request(classroom.instructor), membership, None, True)
    event = AuditEvent.objects.get(action=audit.ROSTER)
    assert (event.before["role"], event.after["role"]) == (Membership.TA, Membership.STUDENT)


def test_grades_are_read_only_in_the_response_admin(classroom):
    readonly = site._registry[Response].get_readonly_fields(admin_request(classroom.instructor))
    assert {"score", "valid", "feedback", "grading_state", "graded_by", "graded_at"} <= set(readonly)
