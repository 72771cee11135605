"""Every seed that matters is checked before a template is used: import and the admin's Save run the self-test
over QUIZBANK_CHECK_SEEDS seeds and refuse a template that fails any of them; a draft is saved unchecked and
is never drawn into a quiz."""
from __future__ import annotations

import pytest
from django.urls import reverse

from exams.assembly import plan_questions
from quizbank import services
from quizbank.models import Template
from quizbank.notebooks import import_directory, write_notebook
from tests.exams_personas import classroom, fast_passwords, make_assessment, runner_calls, spec_for  # noqa: F401 - fixtures
from tests.specs import SOFTMAX_SHORT, edited
from tests.test_template_admin import form_data

pytestmark = pytest.mark.django_db

FAILS_ON_FIVE_SEEDS_IN_SIX = edited(SOFTMAX_SHORT, solution="answer = 1.0 / (seed % 6 == 0)\n")
DIVIDES_BY_ZERO_ON_SEED_7 = edited(SOFTMAX_SHORT, solution="answer = 1.0 / (seed - 7)\n")


@pytest.fixture
def twelve_seeds(settings):
    settings.QUIZBANK_CHECK_SEEDS = 12  # the default (20) is checked below; fewer keeps these tests fast
    return 12


def test_twenty_seeds_are_checked_unless_configured_otherwise():
    assert services.check_seeds() == 20


def test_import_refuses_a_template_that_fails_on_some_seeds_naming_the_cell_line_and_seeds(tmp_path, twelve_seeds):
    write_notebook(FAILS_ON_FIVE_SEEDS_IN_SIX, tmp_path / "softmax.ipynb")
    report = import_directory(tmp_path)
    assert not report.ok and not Template.objects.exists()
    (error,) = report.errors
    assert "softmax.ipynb" in error and "[solution, line 1] ZeroDivisionError" in error
    assert "seeds 1, 2, 3, 4, 5" in error


def test_import_refuses_a_template_that_reads_the_clock_or_the_os_entropy(tmp_path, twelve_seeds):
    write_notebook(edited(SOFTMAX_SHORT, parameters="import time, os\nlogits = [time.time() % 1, 0.0, 1.0]\n"
                                                    "salt = os.urandom(2)\n"), tmp_path / "clock.ipynb")
    report = import_directory(tmp_path)
    assert not Template.objects.exists()
    assert any("[parameters, line 2] nondeterministic: `time.time(...)`" in e for e in report.errors), report.errors
    assert any("[parameters, line 3] nondeterministic: `os.urandom(...)`" in e for e in report.errors), report.errors


def test_import_accepts_a_template_that_passes_every_seed_and_marks_it_ready(tmp_path, twelve_seeds):
    write_notebook(SOFTMAX_SHORT, tmp_path / "softmax.ipynb")
    report = import_directory(tmp_path)
    assert report.ok and report.imported == ["test-softmax-short"]
    assert Template.objects.get().status == Template.READY


def test_reimporting_an_unchanged_checked_template_runs_no_template_code(tmp_path, twelve_seeds, runner_calls):
    write_notebook(SOFTMAX_SHORT, tmp_path / "softmax.ipynb")
    import_directory(tmp_path)
    assert len(runner_calls) == 1 + 2  # the 12 checked seeds in one batched job, two again in jobs of their own
    runner_calls.clear()
    assert import_directory(tmp_path).unchanged == ["test-softmax-short"] and runner_calls == []


def test_the_admin_refuses_to_save_a_solution_that_divides_by_zero_on_one_seed(admin_client, twelve_seeds):
    response = admin_client.post(reverse("admin:quizbank_template_add"), form_data(DIVIDES_BY_ZERO_ON_SEED_7))
    assert response.status_code == 200 and not Template.objects.exists()
    (message,) = response.context["adminform"].form.errors["solution"]
    assert message.startswith("seed 7: line 1: exception: ZeroDivisionError")


def test_the_admin_saves_a_broken_work_in_progress_as_a_draft(admin_client, twelve_seeds):
    response = admin_client.post(reverse("admin:quizbank_template_add"),
                                 form_data(DIVIDES_BY_ZERO_ON_SEED_7, status="draft"), follow=True)
    template = Template.objects.get()
    assert template.status == Template.DRAFT and template.current_version.number == 1
    assert "not drawn into any quiz" in response.content.decode()


def test_making_a_draft_ready_runs_the_seeds_it_skipped(admin_client, twelve_seeds):
    template = services.save_spec(DIVIDES_BY_ZERO_ON_SEED_7, ready=False)
    url = reverse("admin:quizbank_template_change", args=[template.pk])
    response = admin_client.post(url, form_data(DIVIDES_BY_ZERO_ON_SEED_7, status="ready"))
    assert response.status_code == 200 and "solution" in response.context["adminform"].form.errors
    template.refresh_from_db()
    assert template.status == Template.DRAFT


def test_a_blueprint_never_draws_a_draft(classroom):
    ready = services.save_spec(spec_for("ready-mcq", "mcq", "mcq"))
    services.save_spec(spec_for("draft-mcq", "mcq", "mcq"), ready=False)
    assessment = make_assessment(classroom.course, blueprint=[{"qtype": "mcq", "count": 1, "lectures": [1]}])
    drawn = {slot.template.slug for seed in range(12) for slot in plan_questions(assessment, seed)}
    assert drawn == {ready.slug}
