"""Student code cannot get hidden tests, the explanation, the reference or the key back to the student.

A code-completion answer is attacker-controlled code running inside the grading jobs. Each payload below
collects everything it can reach (its callers' frames, every object the garbage collector tracks, its
globals, the job's `__spec__`) and tries to carry it out: in an exception's message, on stdout, as a test's
return value, or by replacing the grading harness's own functions. Then nothing hidden may appear in what
the student can see: the stored feedback, `feedback_data`, and the result page after results are released.
Everything runs for real: the engine, the bubblewrap sandbox, the Celery task body, the result view.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from exams import clock
from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams.grading import grade_code_response
from exams.models import Response
from quizbank import services as bank
from quizbank.engine import build_hidden_job, build_visible_job, generate
from quizbank.models import Variant
from quizbank.spec import TemplateSpec
from runner.api import Cell, Job, Limits, execute
from tests.exams_personas import classroom, fast_passwords, frozen_clock, make_assessment  # noqa: F401 - fixtures

pytestmark = pytest.mark.sandbox

HIDDEN_NAME = "test_zq_hidden_canary_name"
PROBE = TemplateSpec(
    slug="leak-probe-completion", title="Double it", kind="completion", qtype="code", lectures=(1,),
    stem="Complete `f(x)` so that it doubles a tensor; the tests use a = {{ a }}.",
    parameters="a = rng.randint(2, 9)\n",
    solution="solution_note = 'SOLUTION-CELL-CANARY'\n",
    scaffold="import torch\n\n\ndef f(x):\n    # >>> your code\n    return x\n    # <<< your code\n",
    reference="return 2 * x  # REFERENCE-CANARY\n",
    public_tests="def test_visible_double():\n    return f(torch.tensor([1.0, float(a)]))\n",
    tests=(f"def {HIDDEN_NAME}():\n"
           "    hidden_local = 'HIDDEN-LOCAL-CANARY'\n"
           "    return f(torch.tensor([31337.25 * a, -1.0]))\n"),
    explanation="EXPLANATION-CANARY: doubling is `2 * x`, here {{ a }}.",
)
SECRETS = (HIDDEN_NAME, "zq_hidden", "HIDDEN-LOCAL-CANARY", "31337.25", "SOLUTION-CELL-CANARY", "REFERENCE-CANARY",
           "EXPLANATION-CANARY", "2 * x")

# Each gatherer leaves `found`: whatever it reached that looks like a test, a canary or the hidden input.
SIFT = """
import re as _re
found = " ".join(sorted(set(_re.findall(r"[\\w-]*CANARY[\\w-]*|test_\\w+|31337\\.25|2 \\* x", text))))
"""
GATHERERS = {
    "frames": """
import inspect
parts = []
frame = inspect.currentframe()
while frame is not None:
    code = frame.f_code
    parts += [code.co_name, repr(code.co_consts), repr(code.co_names)]
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in list(scope.items()):
            parts.append(name + "=" + repr(value)[:20000])
    frame = frame.f_back
text = " ".join(parts)
""",
    "gc": """
import gc, types
parts = []
for obj in gc.get_objects():
    if isinstance(obj, types.FunctionType):
        parts += [obj.__name__, repr(obj.__code__.co_consts)]
    elif isinstance(obj, types.CodeType):
        parts += [obj.co_name, repr(obj.co_consts)]
    elif isinstance(obj, (dict, list, tuple)):
        try:
            parts.append(repr(obj)[:5000])
        except Exception:
            pass
text = " ".join(parts)
""",
    "globals": """
text = repr(sorted(globals())) + repr({k: v for k, v in globals().items() if isinstance(v, (str, dict, list))})
""",
    "spec": """
g = globals()
text = repr(g.get("__spec__")) + repr(g.get("__answer__")) + repr(g.get("__visible__")) + repr(g.get("__hidden__"))
""",
}
CHANNELS = {
    "raise": "raise RuntimeError('LEAK ' + found)\n",
    "print": "print('LEAK ' + found)\nreturn x\n",
    "return": "return 'LEAK ' + found\n",
    # Replace the harness's own functions, so the job reports the find as the tests' errors.
    "harness": ("g = globals()\n"
                "g['_qb_run_tests'] = lambda *a, **k: [{'name': 'test_visible_double', 'visible': True, "
                "'error': 'LEAK ' + found}]\n"
                "g['_qb_test_values'] = lambda *a, **k: [{'name': n, 'error': 'LEAK ' + found} for n in a[1]]\n"
                "raise RuntimeError('LEAK ' + found)\n"),
}


def payload(gatherer: str, channel: str) -> str:
    return textwrap.dedent(GATHERERS[gatherer]) + textwrap.dedent(SIFT) + CHANNELS[channel]


def assert_nothing_hidden_in(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} reached the student through {where}"


@pytest.fixture
def released_probe_quiz(classroom, frozen_clock):
    bank.save_spec(PROBE)
    return make_assessment(classroom.course, blueprint=[{"templates": [PROBE.slug]}], results_released_at=clock.now())


@pytest.mark.parametrize("channel", sorted(CHANNELS))
@pytest.mark.parametrize("gatherer", sorted(GATHERERS))
def test_nothing_hidden_reaches_the_students_feedback_or_result_page(released_probe_quiz, classroom, client,
                                                                   gatherer, channel):
    attempt = start_attempt(released_probe_quiz, classroom.student)
    (question,) = attempt_questions(attempt)
    autosave(attempt, question.slot_id, payload(gatherer, channel), user=classroom.student)
    attempt = submit_attempt(attempt, user=classroom.student)
    response = Response.objects.get(attempt=attempt)
    assert grade_code_response(response.pk) is True
    response.refresh_from_db()
    assert response.grading_state == Response.GRADED and response.score == 0.0
    assert response.feedback_data["hidden_total"] == 1 and response.feedback_data["hidden_passed"] == 0
    key = Variant.objects.get(version=response.slot.template_version, seed=response.slot.seed).key
    hidden_expected = next(t for t in key["expected_tests"] if not t["visible"])
    expected_numbers = [repr(v) for v in hidden_expected["value"]["data"] if abs(v) > 100]
    client.force_login(classroom.student)
    page = client.get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 200 and "Hidden tests: 0 of 1 passed." in page.content.decode()
    for where, text in (("feedback", response.feedback), ("feedback_data", json.dumps(response.feedback_data)),
                        ("the result page", page.content.decode())):
        assert_nothing_hidden_in(text, where)
        for number in expected_numbers:
            assert number not in text, f"the hidden test's expected value reached the student through {where}"


@pytest.mark.parametrize("gatherer", sorted(GATHERERS))
def test_the_visible_job_holds_nothing_hidden_even_for_code_that_reads_everything(gatherer):
    result = execute(build_visible_job(PROBE, 3, payload(gatherer, "print")))
    assert result.ok, result
    assert "LEAK" in result.stdout
    assert_nothing_hidden_in(json.dumps(result.to_json()), "the visible job's raw result")


def test_a_hidden_job_does_hold_the_hidden_test_but_its_text_never_counts():
    # Proof the payloads work: inside the hidden job the frames do show the hidden test; its stdout (which
    # grading discards) carries it, while the exports grading reads are bare markers.
    result = execute(build_hidden_job(PROBE, 3, payload("frames", "harness")))
    assert result.ok, result
    assert result.exports["__results__"]["tests"][0]["name"] == HIDDEN_NAME
    printed = execute(build_hidden_job(PROBE, 3, payload("frames", "print")))
    assert HIDDEN_NAME in printed.stdout and "HIDDEN-LOCAL-CANARY" not in json.dumps(printed.exports)


def test_a_crashing_hidden_test_reports_a_bare_marker_without_text():
    result = execute(build_hidden_job(PROBE, 3, payload("frames", "raise")))
    assert result.ok, result
    assert result.exports["__results__"] == {"tests": [{"name": HIDDEN_NAME, "error": True}]}


# Reads the job process's whole heap and anonymous memory (inherited from the zygote it was forked from) and
# looks for canaries. Each needle lacks its last letter, checked separately, so the scan never finds itself.
MEMORY_SCAN = """
import ctypes
found = set()
with open("/proc/self/maps") as maps:
    for line in maps:
        fields = line.split()
        if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        low, high = (int(x, 16) for x in fields[0].split("-"))
        data = ctypes.string_at(low, high - low)
        for stem in NEEDLE_STEMS:
            needle = stem.encode()
            start = data.find(needle)
            while start >= 0:
                if data[start + len(needle):start + len(needle) + 1] == b"Y":
                    found.add(stem)
                    break
                start = data.find(needle, start + 1)
found = sorted(found)
"""
STEMS = ["EXPLANATION-CANAR", "REFERENCE-CANAR", "HIDDEN-LOCAL-CANAR", "SOLUTION-CELL-CANAR", "CLASSMATE-ANSWER-CANAR",
         "OWN-INPUT-CANAR"]


def test_a_job_cannot_read_what_earlier_jobs_left_in_the_zygotes_memory():
    for seed in range(40, 44):  # trusted jobs: the explanation, the reference, the solution cell, the hidden test
        generate(PROBE, seed)
    execute(build_hidden_job(PROBE, 3, "return 2 * x  # CLASSMATE-ANSWER-CANARY\n"))  # another student's answer
    for _ in range(2):  # the pool has a zygote per core: look from more than one
        result = execute(Job(cells=(Cell("scan", MEMORY_SCAN),), inputs={"NEEDLE_STEMS": STEMS,
                                                                          "own": "OWN-INPUT-CANAR" + "Y"},
                             exports=("found",), limits=Limits(cpu_seconds=20, wall_seconds=30, memory_mb=2048)))
        assert result.ok, result
        # The job's own input is found (the scan works); nothing of the earlier jobs is.
        assert result.exports["found"] == ["OWN-INPUT-CANAR"]
