"""Sessions end when the browser closes or after DJANGO_SESSION_IDLE_MINUTES without a request, unless
"remember me" was ticked at login; activity moves the idle deadline at most once a minute."""
from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from exams.session_idle import LAST_SEEN_KEY, REFRESH_EVERY_SECONDS
from tests.web_fixtures import *  # noqa: F403


def log_in(client: Client, **extra: str):
    response = client.post("/accounts/login/", {"username": "sam", "password": PASSWORD, **extra})
    assert response.status_code == 302
    return response


def stored_expiry(client: Client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_without_remember_me_the_session_ends_with_the_browser_or_when_idle(student, settings):
    client = Client()
    response = log_in(client)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert idle == timedelta(minutes=120)
    assert abs(stored_expiry(client) - (timezone.now() + idle)) < timedelta(minutes=1)


def test_remember_me_keeps_the_login_for_the_configured_days(student, settings):
    client = Client()
    response = log_in(client, remember_me="1")
    days = settings.REMEMBER_ME_DAYS * 24 * 60 * 60
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == days
    assert abs(stored_expiry(client) - (timezone.now() + timedelta(seconds=days))) < timedelta(minutes=1)


def test_activity_moves_the_idle_deadline_at_most_once_every_five_minutes(student):
    client = Client()
    log_in(client)
    client.get("/")
    first = stored_expiry(client)
    client.get("/")
    assert stored_expiry(client) == first  # within five minutes: no session write
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - REFRESH_EVERY_SECONDS - 1
    session.save()
    Session.objects.filter(session_key=session.session_key).update(expire_date=first - timedelta(minutes=5))
    client.get("/")
    assert stored_expiry(client) >= first


def test_a_session_idle_past_the_timeout_is_logged_out(student):
    client = Client()
    log_in(client)
    assert client.get("/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
