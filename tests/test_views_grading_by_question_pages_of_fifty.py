"""The grading-by-question list comes in pages of 50: the page links keep the filters, the next page's first
answer is where saving the last answer of a page goes, and the redirect after saving lands on the page that
now holds the next answer."""
from __future__ import annotations

import pytest

from exams import rubrics
from quizbank.services import save_spec
from tests.answer_group_support import submit_class
from tests.rubric_support import EXPLAIN_RUBRIC
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def big_class(course):
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    responses = submit_class(quiz, course, [f"ANSWER-{n:02d}" for n in range(1, 53)])
    return quiz, template, responses


def test_fifty_answers_a_page_with_page_links_that_keep_the_filters(big_class, ta):
    quiz, template, responses = big_class
    url = f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/"
    client = logged_in(ta)  # noqa: F405
    first = client.get(url + "?state=ungraded").content.decode()
    assert first.count("data-grading-card") == 50 and "ANSWER-50" in first and "ANSWER-51" not in first
    assert "Answers (1–50 of 52)" in first
    assert 'href="?who=all&amp;state=ungraded&amp;page=2"' in first
    assert f'data-next-first="{responses[50].pk}"' in first
    second = client.get(url + "?who=all&state=ungraded&page=2").content.decode()
    assert second.count("data-grading-card") == 2 and "ANSWER-51" in second and "ANSWER-52" in second
    assert 'data-next-first=""' in second and 'data-previous-page="?who=all&amp;state=ungraded&amp;page=1"' in second


def test_saving_the_last_answer_of_a_page_comes_back_on_the_page_of_the_next_answer(big_class, ta):
    quiz, template, responses = big_class
    item = rubrics.items_for(quiz, template)[0]
    saved = logged_in(ta).post(f"/manage/responses/{responses[49].pk}/rubric", {  # noqa: F405
        "items": [item.pk], "who": "all", "state": "ungraded", "next_id": str(responses[50].pk)})
    # 49 ungraded answers before it now: the next answer is the 50th of the list, still on page 1
    assert saved["Location"].endswith(f"?who=all&state=ungraded#response-{responses[50].pk}")
    saved = logged_in(ta).post(f"/manage/responses/{responses[0].pk}/rubric", {  # noqa: F405
        "items": [item.pk], "who": "all", "next_id": str(responses[51].pk)})
    assert saved["Location"].endswith(f"?who=all&page=2#response-{responses[51].pk}")
