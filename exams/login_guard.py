"""Login protection: django-axes, configured for this site (docs/deployment.md, "Security settings").

Axes watches logins at the authentication-backend level (AxesStandaloneBackend first in
AUTHENTICATION_BACKENDS, AxesMiddleware to answer a locked-out request), so every login form, ours and the
admin's, is covered. What this module adds to it:

- `normalised_username`: the username axes counts, NFKC-normalised as Django's login form does and
  case-folded, so `ｓam`, `Sam` and `sam` are counted as one person.
- `client_ip`: REMOTE_ADDR, or the rightmost X-Forwarded-For hop that is not a trusted proxy, but only when
  REMOTE_ADDR itself is one of the proxies named in TRUSTED_PROXIES (env DJANGO_TRUSTED_PROXIES).
- `LoginAttemptHandler`: axes' cache handler with two changes. An attempt takes its place in the count
  *before* its password is checked (axes checks first and counts after the password failed, so a burst of
  concurrent guesses all pass its check), and each lockout key has its own limit: a (username, IP) pair is
  locked after AXES_FAILURE_LIMIT failures, an IP across all usernames after LOGIN_IP_FAILURE_LIMIT.
"""
from __future__ import annotations

import ipaddress
import logging
import unicodedata
from typing import Any

from axes.conf import settings
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import (
    get_cache_timeout,
    get_client_parameters,
    get_client_str,
    get_client_username,
    get_credentials,
    make_cache_key_list,
)
from axes.signals import user_locked_out
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.http import HttpRequest

log = logging.getLogger(__name__)
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalise_username(username: str) -> str:
    # NFKC again after casefold: folding can produce characters that are not in NFKC form.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def normalised_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username from the credentials (or the POST), normalised."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or {}).get(field)
    if username is None and request is not None:
        username = getattr(request, "POST", {}).get(field)
    return normalise_username(username.strip()) if username else None


def trusted_proxy_networks() -> list[IpNetwork]:
    return [ipaddress.ip_network(entry, strict=False) for entry in getattr(settings, "TRUSTED_PROXIES", [])]


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE. X-Forwarded-For is client-controlled: it is read only when the request came
    from a named proxy, and then from the right, because each proxy appends the address it saw."""
    remote = request.META.get("REMOTE_ADDR") or None
    networks = trusted_proxy_networks()
    remote_ip = _parse_ip(remote) if remote else None
    if remote_ip is None or not any(remote_ip in net for net in networks):
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        hop_ip = _parse_ip(hop)
        if hop_ip is None:
            break  # a malformed hop was written by the client, not by a proxy: stop trusting the chain
        if not any(hop_ip in net for net in networks):
            return str(hop_ip)
    return remote


class LoginAttemptHandler(AxesCacheHandler):
    """Counts each login attempt before its password is checked; see the module docstring."""

    def limited_keys(self, request: HttpRequest,
                     credentials: dict[str, Any] | None) -> list[tuple[str, int, bool]]:
        """(cache key, limit, whether the key names a username) for each set in AXES_LOCKOUT_PARAMETERS."""
        username = get_client_username(request, credentials)
        parameters = get_client_parameters(username, request.axes_ip_address, request.axes_user_agent,
                                           request, credentials)
        keys: list[tuple[str, int, bool]] = []
        for params, key in zip(parameters, make_cache_key_list(parameters)):
            if "username" in params:
                if not username:
                    continue  # without a username the key would collapse into the IP-wide one
                keys.append((key, settings.AXES_FAILURE_LIMIT, True))
            else:
                keys.append((key, settings.LOGIN_IP_FAILURE_LIMIT, False))
        return keys

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        keys = self.limited_keys(request, credentials)
        return any(self.cache.get(key, 0) >= limit for key, limit, _ in keys)

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        keys = self.limited_keys(request, credentials)
        return max((self.cache.get(key, 0) for key, _, _ in keys), default=0)

    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        """Called by AxesStandaloneBackend before any password is checked: takes this attempt's place in
        every count, and refuses (taking no place) when any count is already at its limit."""
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        timeout = get_cache_timeout(request)
        taken: list[str] = []
        for key, limit, _ in self.limited_keys(request, credentials):
            count = self._increment(key, timeout)
            taken.append(key)
            if count > limit:
                for taken_key in taken:
                    self._decrement(taken_key)
                return False
        request.axes_counted_keys = taken
        return True

    def user_login_failed(self, sender, credentials: dict, request: HttpRequest | None = None,
                          **kwargs) -> None:
        if request is None:
            return
        username = get_client_username(request, credentials)
        counted = getattr(request, "axes_counted_keys", None)
        request.axes_counted_keys = None
        if counted:  # already counted in is_allowed; lock out now if this failure reached a limit
            request.axes_failures_since_start = self.get_failures(request, credentials)
            if settings.AXES_LOCK_OUT_AT_FAILURE and self.is_locked(request, credentials):
                request.axes_locked_out = True
                client = get_client_str(username, request.axes_ip_address, request.axes_user_agent,
                                        request.axes_path_info, request)
                log.warning("AXES: Locking out %s after repeated login failures.", client)
        if request.axes_locked_out:
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username,
                                 ip_address=request.axes_ip_address)

    def user_logged_in(self, sender, request: HttpRequest, user, **kwargs) -> None:
        """A success was no failure: give back its place in the IP-wide count, and clear the failures of
        this (username, IP) pair."""
        counted = getattr(request, "axes_counted_keys", None) or []
        request.axes_counted_keys = None
        credentials = get_credentials(user.get_username())
        for key, _, names_username in self.limited_keys(request, credentials):
            if names_username:
                self.cache.delete(key)
            elif key in counted:
                self._decrement(key)

    def _increment(self, key: str, timeout: int | None) -> int:
        while True:
            if self.cache.add(key, 1, timeout=timeout):
                return 1
            try:
                count = self.cache.incr(key)
            except ValueError:  # expired between add() and incr()
                continue
            self.cache.touch(key, timeout=timeout)
            return count

    def _decrement(self, key: str) -> None:
        try:
            self.cache.decr(key)
        except ValueError:  # already expired
            pass


PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


@register(Tags.security, deploy=True)
def check_login_counts_are_shared(app_configs, **kwargs) -> list[CheckMessage]:
    backend = settings.CACHES[getattr(settings, "AXES_CACHE", "default")]["BACKEND"]
    if backend not in PER_PROCESS_CACHES:
        return []
    return [CheckWarning(
        "Failed logins are counted in a per-process cache: each web process allows its own set of tries.",
        hint="Set DJANGO_CACHE_URL=redis://HOST:6379/N (a database number other than the Celery broker's).",
        id="dlquiz.W001",
    )]
