"""The quiz page renders each question's HTML once per variant and caches it with the student's fields left
open (exams.views.presentation.quiz_questions_html). Two students who drew the same variant share the cached
fragment, and each still sees only their own saved answer and its format verdict, escaped; the cached page is
the page the template renders directly."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.template.loader import get_template
from django.test import Client

from exams import attempts, clock
from exams.assembly import pregenerate_assessment
from exams.models import Attempt, AttemptSlot
from exams.views import presentation
from tests.exams_personas import build_bank, classroom, fast_passwords, make_assessment  # noqa: F401


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _started(client: Client, quiz) -> Attempt:
    assert client.post(f"/assessments/{quiz.pk}/start").status_code == 302
    return Attempt.objects.get(assessment=quiz, student=client.session_user)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.session_user = user
    return client


@pytest.fixture
def shared_quiz(classroom):
    """Both students started one quiz (1 multiple choice, 1 numeric, 2 code), the second student's slots pointed
    at the first student's variants, as two students who drew the same seeds would have."""
    build_bank(mcq=1, short=1, code=2)
    now = clock.now()
    quiz = make_assessment(classroom.course, "Shared", opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
                           blueprint=[{"qtype": "mcq", "count": 1, "lectures": [1, 1]},
                                      {"qtype": "short", "count": 1, "lectures": [1, 1]},
                                      {"qtype": "code", "count": 2, "lectures": [1, 1]}])
    pregenerate_assessment(quiz.pk)
    mine, theirs = _client(classroom.student), _client(classroom.other_student)
    my_attempt, their_attempt = _started(mine, quiz), _started(theirs, quiz)
    for my_slot in my_attempt.slots.all():  # the bank has exactly these four templates: both drew all of them
        assert AttemptSlot.objects.filter(attempt=their_attempt, template=my_slot.template).update(
            template_version=my_slot.template_version, seed=my_slot.seed) == 1
    return mine, my_attempt, theirs, their_attempt


def _save(client: Client, attempt: Attempt, position: int, text: str) -> None:
    slot = attempt.slots.get(position=position)
    saved = client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot.pk, "response": text}),
                        content_type="application/json")
    assert saved.status_code == 200, saved.content


def _section(page: str, attempt: Attempt, position: int) -> str:
    slot = attempt.slots.get(position=position)
    match = re.search(rf'<section class="question"[^>]* data-slot="{slot.pk}".*?</section>', page, re.S)
    assert match, f"no question {position}"
    return match.group(0)


def _kinds(attempt: Attempt) -> dict[str, int]:
    return {question.public["kind"]: question.position for question in attempts.attempt_questions(attempt)}


def test_a_student_sees_their_own_answers_and_verdicts_after_another_student_filled_the_cache(shared_quiz):
    mine, my_attempt, theirs, their_attempt = shared_quiz
    kinds, their_kinds = _kinds(my_attempt), _kinds(their_attempt)
    mcq, short, completion = kinds["mcq"], kinds["short"], kinds["completion"]
    _save(theirs, their_attempt, their_kinds["mcq"], "2")
    _save(theirs, their_attempt, their_kinds["short"], "their-unreadable-answer")
    _save(theirs, their_attempt, their_kinds["completion"], "return 'theirs'")
    _save(mine, my_attempt, mcq, "0")
    _save(mine, my_attempt, short, "12")
    _save(mine, my_attempt, completion, "return x < 1 and '<mine>'")

    cache.clear()  # pre-generation warmed it: here the other student's page renders the fragments
    their_page = theirs.get(f"/attempts/{their_attempt.pk}/").content.decode()
    mine_shown = attempts.attempt_questions(my_attempt)
    assert None not in [question.variant_id for question in mine_shown]
    assert sorted(question.variant_id for question in mine_shown) == sorted(
        question.variant_id for question in attempts.attempt_questions(their_attempt))
    assert all(presentation._fragment_key(question.variant_id, question.public) in cache for question in mine_shown)
    my_page = mine.get(f"/attempts/{my_attempt.pk}/").content.decode()

    assert "their-unreadable-answer" in their_page and "theirs" in their_page
    assert "their-unreadable-answer" not in my_page and "theirs" not in my_page
    my_choice = _section(my_page, my_attempt, mcq)
    assert re.search(r'value="0" checked>', my_choice) and not re.search(r'value="2" checked>', my_choice)
    assert re.search(r'value="2" checked>', _section(their_page, their_attempt, their_kinds["mcq"]))
    my_number = _section(my_page, my_attempt, short)
    assert 'value="12"' in my_number and 'data-format-valid="true"' in my_number and 'data-state=""' in my_number
    their_number = _section(their_page, their_attempt, their_kinds["short"])
    assert 'data-format-valid="false"' in their_number and "Saved — but it can't be read:" in their_number
    my_code = _section(my_page, my_attempt, completion)
    assert "return x &lt; 1 and &#x27;&lt;mine&gt;&#x27;</textarea>" in my_code and "<mine>" not in my_page
    for position in kinds.values():
        assert f'data-slot="{my_attempt.slots.get(position=position).pk}"' in _section(my_page, my_attempt, position)
        assert f'name="slot-{their_attempt.slots.get(position=position).pk}"' not in my_page


def test_the_cached_question_html_is_what_the_template_renders_directly(shared_quiz):
    mine, my_attempt, theirs, their_attempt = shared_quiz
    kinds = _kinds(my_attempt)
    _save(mine, my_attempt, kinds["mcq"], "1")
    _save(mine, my_attempt, kinds["short"], 'x"<&>\'')
    _save(mine, my_attempt, kinds["output"], "line one\n<two>")
    theirs.get(f"/attempts/{their_attempt.pk}/")  # fills the cache with the shared variants
    template = get_template("exams/_question.html")
    questions = attempts.attempt_questions(my_attempt)
    direct = [template.render({"q": presentation.question_context(question.public, question=question,
                                                                  verdict=question.verdict)})
              for question in questions]
    assert presentation.quiz_questions_html(questions) == direct
    cache.clear()
    assert presentation.quiz_questions_html(questions) == direct  # and on a miss


def test_a_question_without_a_variant_row_is_shown_but_never_cached(shared_quiz):
    mine, my_attempt, _, _ = shared_quiz
    question = attempts.attempt_questions(my_attempt)[0]
    cache.clear()
    stand_in = attempts.QuestionView(question.slot_id, question.position, question.qtype, question.public,
                                     "mine", None, question.answer_config, None)
    html = presentation.quiz_questions_html([stand_in])[0]
    assert f'data-slot="{question.slot_id}"' in html
    assert not any(key.startswith("quiz-question:") for key in _cache_keys())


def _cache_keys() -> list[str]:
    """The keys in the test cache, without Django's version prefix: LocMem on SQLite, Redis in lane 2."""
    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):
        keys = list(store)
    elif hasattr(store, "get_client"):  # django.core.cache.backends.redis.RedisCacheClient
        keys = [key.decode() for key in store.get_client(write=False).keys("*")]
    else:
        pytest.skip("the test cache cannot list its keys")
    return [key.split(":", 2)[-1] for key in keys]


def test_a_marker_forged_in_question_text_is_shown_as_text_not_filled_in(shared_quiz):
    mine, my_attempt, _, _ = shared_quiz
    question = attempts.attempt_questions(my_attempt)[0]
    stem_key = next(key for key in ("stem_html", "stem") if isinstance(question.public.get(key), str))
    forged = "\ue000" + "0123456789abcdef" + ":text\ue001"  # a marker's shape with a nonce no render made
    public = {**question.public, stem_key: question.public[stem_key] + forged}
    stand_in = attempts.QuestionView(question.slot_id, question.position, question.qtype, public, "my answer",
                                     None, question.answer_config, 10**9)
    html = presentation.quiz_questions_html([stand_in])[0]
    direct = get_template("exams/_question.html").render(
        {"q": presentation.question_context(public, question=stand_in, verdict=stand_in.verdict)})
    assert html == direct and "0123456789abcdef:text" in html
