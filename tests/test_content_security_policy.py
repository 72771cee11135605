"""Every page is served under a Content-Security-Policy that allows no inline script, and no page of ours
carries an inline script or an inline event handler for the policy to break."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from exams import attempts as attempt_service
from exams.models import Response
from quizbank.models import Template
from tests.web_fixtures import *  # noqa: F403

EXPECTED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src-elem": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


class _InlineCode(HTMLParser):
    """Collects what a script-src 'self' policy would block: inline scripts and on* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.found += [f"<{tag} {name}>" for name in values if name.startswith("on")]
        self.found += [f"<{tag} {name}=javascript:>" for name, value in values.items()
                       if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith("javascript:")]
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self._in_inline_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}")


def inline_code(page: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(page)
    return parser.found


def assert_under_policy(client: Client, url: str, status: int = 200) -> None:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    header = response.get("Content-Security-Policy")
    assert header, f"{url} has no Content-Security-Policy"
    policy = directives(header)
    assert {name: policy.get(name) for name in EXPECTED_DIRECTIVES} == EXPECTED_DIRECTIVES, url
    if "text/html" in response.get("Content-Type", ""):
        assert inline_code(response.content.decode()) == [], url


def test_the_login_page_and_a_missing_page_are_served_under_the_policy(db) -> None:
    assert_under_policy(Client(), "/accounts/login/")
    assert_under_policy(Client(), "/no-such-page/", status=404)


def test_a_students_pages_are_served_under_the_policy(quiz, student) -> None:
    client = logged_in(student)
    assert_under_policy(client, "/")
    assert_under_policy(client, f"/assessments/{quiz.pk}/")
    attempt = attempt_service.start_attempt(quiz, student)
    assert_under_policy(client, f"/attempts/{attempt.pk}/")
    assert_under_policy(client, f"/attempts/{attempt.pk}/state")
    attempt_service.submit_attempt(attempt, user=student)
    assert_under_policy(client, f"/attempts/{attempt.pk}/")


def test_the_staff_pages_are_served_under_the_policy(quiz, instructor, student) -> None:
    attempt = attempt_service.start_attempt(quiz, student)
    written = attempt.slots.get(template__slug="web-explain")
    attempt_service.autosave(attempt, written.pk, "It keeps the expectation.", user=student)
    attempt_service.submit_attempt(attempt, user=student)
    client = logged_in(instructor)
    assert_under_policy(client, f"/courses/{quiz.course_id}/")
    assert_under_policy(client, f"/courses/{quiz.course_id}/gradebook/")
    assert_under_policy(client, f"/manage/assessments/{quiz.pk}/")
    assert_under_policy(client, f"/manage/assessments/{quiz.pk}/grading/")
    assert_under_policy(client, f"/manage/responses/{Response.objects.get(slot=written).pk}/grade")


def test_the_admin_and_its_template_preview_are_served_under_the_policy(admin_client, bank) -> None:
    template = Template.objects.get(slug="web-pick")
    assert_under_policy(admin_client, reverse("admin:index"))
    assert_under_policy(admin_client, reverse("admin:quizbank_template_changelist"))
    assert_under_policy(admin_client, reverse("admin:quizbank_template_change", args=[template.pk]))
    assert_under_policy(admin_client, reverse("admin:quizbank_template_preview", args=[template.pk]) + "?seeds=1")


@pytest.mark.parametrize("page", ["exams/attempt_result.html", "exams/grade_response.html",
                                  "exams/assessment_manage.html", "admin/quizbank/_math_head.html"])
def test_the_templates_that_had_inline_code_now_have_none(page: str) -> None:
    from django.template.loader import get_template

    source = get_template(page).template.source
    assert inline_code(source) == [], page
    assert "<style>" not in source, page
