"""Authoring in the Django admin: create, edit with located errors, preview seeds side by side, self-test."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from quizbank import services
from quizbank.models import Template
from tests.specs import CONV_MCQ, SOFTMAX_SHORT

pytestmark = pytest.mark.django_db


def form_data(spec, **overrides) -> dict:
    data = {name: value for name, value in spec.to_dict().items()}
    data["lectures"] = json.dumps(data["lectures"])
    data["tags"] = json.dumps(data["tags"])
    data["answer"] = json.dumps(data["answer"])
    data["limits"] = json.dumps(data["limits"])
    data["is_active"] = "on"
    data["status"] = "ready"
    data["mistakes"] = json.dumps(data.get("mistakes", []))
    data["alternatives"] = json.dumps(data.get("alternatives", []))
    data.update({"versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", "versions-MIN_NUM_FORMS": "0",
                 "versions-MAX_NUM_FORMS": "1000"})
    data.update(overrides)
    return data


def test_an_instructor_creates_a_template_in_the_admin_and_gets_version_one(admin_client):
    response = admin_client.post(reverse("admin:quizbank_template_add"), form_data(SOFTMAX_SHORT))
    assert response.status_code == 302, response.content.decode()[:2000]
    template = Template.objects.get(slug="test-softmax-short")
    assert template.current_version.number == 1


def test_editing_a_template_in_the_admin_makes_version_two(admin_client):
    template = services.save_spec(SOFTMAX_SHORT)
    url = reverse("admin:quizbank_template_change", args=[template.pk])
    response = admin_client.post(url, form_data(SOFTMAX_SHORT, title="Softmax probability of class 0"))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.current_version.number == 2 and template.versions.count() == 2


def test_a_runtime_error_is_shown_on_the_field_it_came_from_with_its_line(admin_client):
    data = form_data(SOFTMAX_SHORT, solution="x = 1\nanswer = logits[10]\n")
    response = admin_client.post(reverse("admin:quizbank_template_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "solution" in errors and "line 2" in errors["solution"][0] and "IndexError" in errors["solution"][0]
    assert not Template.objects.exists()


def test_a_jinja_error_in_the_stem_is_shown_on_the_stem(admin_client):
    data = form_data(SOFTMAX_SHORT, stem="Logits {{ logits }\n")
    response = admin_client.post(reverse("admin:quizbank_template_add"), data)
    errors = response.context["adminform"].form.errors
    assert "stem" in errors and "template syntax" in errors["stem"][0]


def test_the_preview_page_shows_several_seeds_side_by_side_with_the_answer_key(admin_client):
    template = services.save_spec(CONV_MCQ)
    response = admin_client.get(reverse("admin:quizbank_template_preview", args=[template.pk]) + "?seeds=1,2,5")
    assert response.status_code == 200
    cards = response.context["results"]
    assert [c["seed"] for c in cards] == [1, 2, 5]
    html = response.content.decode()
    assert html.count('class="qb-card"') == 3
    assert "✓ correct" in html and "ignores padding" in html
    assert 'class="math inline"' in html


def test_the_preview_page_shows_where_a_broken_template_broke(admin_client):
    template = services.save_spec(SOFTMAX_SHORT)
    Template.objects.filter(pk=template.pk).update(solution="answer = 1 / (seed - 2)\n")
    response = admin_client.get(reverse("admin:quizbank_template_preview", args=[template.pk]) + "?seeds=1,2")
    html = response.content.decode()
    assert "This template is broken for seed 2" in html and "[solution, line 1] ZeroDivisionError" in html


def test_the_selftest_page_reports_failures_per_template(admin_client):
    template = services.save_spec(SOFTMAX_SHORT)
    Template.objects.filter(pk=template.pk).update(solution="answer = float('inf') if seed == 3 else 1.0\n")
    response = admin_client.get(reverse("admin:quizbank_template_selftest", args=[template.pk]) + "?seeds=5")
    assert response.status_code == 200
    (_, report), = response.context["reports"]
    assert not report.ok and report.failures[0].category == "nan" and report.failures[0].seeds == (3,)
    assert "1 failed" in response.content.decode()


def test_the_selftest_admin_action_runs_the_selected_templates(admin_client):
    first = services.save_spec(SOFTMAX_SHORT)
    second = services.save_spec(CONV_MCQ)
    response = admin_client.post(reverse("admin:quizbank_template_changelist"),
                                 {"action": "selftest_action", "_selected_action": [first.pk, second.pk]})
    assert response.status_code == 200
    assert {t.slug for t, _ in response.context["reports"]} == {"test-softmax-short", "test-conv-mcq"}
    assert "all passed" in response.content.decode()


def test_admin_pages_need_a_staff_login(client):
    template = services.save_spec(SOFTMAX_SHORT)
    response = client.get(reverse("admin:quizbank_template_preview", args=[template.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_without_template_permissions_cannot_preview_or_self_test(client):
    from tests.conftest import make_user

    template = services.save_spec(SOFTMAX_SHORT)
    client.force_login(make_user("clerk", is_staff=True))
    for name in ("admin:quizbank_template_preview", "admin:quizbank_template_selftest"):
        assert client.get(reverse(name, args=[template.pk])).status_code == 403
