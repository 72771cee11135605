"""Login throttling: a small cache-based counter of failed logins per (username, client IP).

After `LOGIN_FAILURE_LIMIT` failures inside `LOGIN_FAILURE_WINDOW_SECONDS` the login view answers 429 until
the window passes. A successful login clears the counter. The cache is Django's default cache: per process
with the laptop's LocMemCache, shared across workers with Redis in production.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

DEFAULT_LIMIT = 5
DEFAULT_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class LoginThrottle:
    username: str
    client_ip: str

    @classmethod
    def for_request(cls, request: HttpRequest) -> "LoginThrottle":
        return cls(username=request.POST.get("username", "").strip().lower(), client_ip=client_ip(request))

    @property
    def limit(self) -> int:
        return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LIMIT))

    @property
    def window_seconds(self) -> int:
        return int(getattr(settings, "LOGIN_FAILURE_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))

    @property
    def cache_key(self) -> str:
        digest = hashlib.sha256(f"{self.username}\x00{self.client_ip}".encode()).hexdigest()
        return f"login-failures:{digest}"

    def failures(self) -> int:
        return int(cache.get(self.cache_key, 0))

    def is_blocked(self) -> bool:
        return self.failures() >= self.limit

    def record_failure(self) -> None:
        # add() starts the window on the first failure; incr() never extends it.
        if not cache.add(self.cache_key, 1, timeout=self.window_seconds):
            try:
                cache.incr(self.cache_key)
            except ValueError:  # expired between add() and incr()
                cache.add(self.cache_key, 1, timeout=self.window_seconds)

    def clear(self) -> None:
        cache.delete(self.cache_key)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
