"""The idle timeout. A browser-session login's server-side lifetime is SESSION_COOKIE_AGE (set to
DJANGO_SESSION_IDLE_MINUTES) counted from the session's last save; this middleware saves a signed-in
session at most once every five minutes, so activity keeps it alive and DJANGO_SESSION_IDLE_MINUTES of silence
ends it (up to five minutes late). SESSION_SAVE_EVERY_REQUEST would do the same with a database write on every
autosave of every student; once a minute was a write per student in every minute of a class's start."""
from __future__ import annotations

import time
from typing import Callable

from django.http import HttpRequest, HttpResponse

REFRESH_EVERY_SECONDS = 300
LAST_SEEN_KEY = "_idle_last_seen"


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.session_key and "_auth_user_id" in session:
            now = int(time.time())
            if now - int(session.get(LAST_SEEN_KEY, 0)) >= REFRESH_EVERY_SECONDS:
                session[LAST_SEEN_KEY] = now  # marks it modified: the response saves it with a new expiry
        return self.get_response(request)
