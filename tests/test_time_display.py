"""Times shown to students and staff carry their year and their time zone (`|when`), and an attempt with no
time limit shows when it closes instead of a countdown of thousands of hours."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone as dt_timezone

from django.template import Context, Template
from django.utils import timezone

from exams import attempts as attempt_service
from exams.templatetags.dlquiz_time import utc_offset, when
from tests.web_fixtures import *  # noqa: F403

EVENING_IN_BAKU = datetime(2026, 2, 3, 19, 0, 5, tzinfo=dt_timezone.utc)  # 23:00 at +04


def test_a_moment_is_shown_with_weekday_year_offset_and_zone_name(settings):
    settings.TIME_ZONE = "Asia/Baku"
    with timezone.override("Asia/Baku"):
        assert when(EVENING_IN_BAKU) == "Tue 3 Feb 2026, 23:00 +04 (Asia/Baku)"
        assert when(EVENING_IN_BAKU, "short") == "3 Feb 2026, 23:00 +04"
        assert when(EVENING_IN_BAKU, "seconds") == "3 Feb 2026, 23:00:05 +04"


def test_the_same_moment_is_shown_in_the_zone_that_is_active():
    with timezone.override("America/St_Johns"):
        assert when(EVENING_IN_BAKU) == "Tue 3 Feb 2026, 15:30 -03:30 (America/St_Johns)"
    with timezone.override("UTC"):
        assert when(EVENING_IN_BAKU, "short") == "3 Feb 2026, 19:00 +00"


def test_no_moment_shows_nothing_so_a_default_can_follow():
    rendered = Template('{% load dlquiz_time %}[{{ missing|when|default:"not yet" }}]').render(Context({}))
    assert rendered == "[not yet]"
    assert utc_offset(timedelta(hours=5, minutes=45)) == "+05:45"


def test_an_untimed_practice_open_all_term_shows_its_closing_date_and_no_timer(course, student, bank):
    practice = make_quiz(course, slugs=["web-double"], title="Sample questions", minutes=None,
                         closes_at=timezone.now() + timedelta(days=120))
    attempt = attempt_service.start_attempt(practice, student)
    assert attempt.deadline is not None  # the closing time still ends it
    page = logged_in(student).get(f"/attempts/{attempt.pk}/").content.decode()
    assert 'id="countdown"' not in page and "Time left" not in page
    assert "No time limit · closes " + when(attempt.deadline) in page
    assert re.search(r'data-remaining="\d{5,}"', page)  # the page still submits at the closing time


def test_a_timed_quiz_shows_its_countdown(course, student, quiz):
    attempt = attempt_service.start_attempt(quiz, student)
    page = logged_in(student).get(f"/attempts/{attempt.pk}/").content.decode()
    assert 'id="countdown"' in page and 'id="closes-at"' not in page
