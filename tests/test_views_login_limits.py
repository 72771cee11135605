"""Failed logins are limited by django-axes (exams/login_guard.py): a (username, IP) pair after
AXES_FAILURE_LIMIT failures, an IP across usernames after LOGIN_IP_FAILURE_LIMIT, on every login form
including the admin's. Each bypass found by the attack on a running instance has a test here."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.db import connections
from django.test import Client

from tests.conftest import make_user
from tests.web_fixtures import *  # noqa: F403

STUDENT_IP = "198.51.100.7"
ATTACKER_IP = "203.0.113.9"
PROXY_IP = "10.0.0.1"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def log_in(username: str, password: str, *, ip: str = STUDENT_IP, path: str = "/accounts/login/",
           client: Client | None = None, **headers: str):
    client = client or Client()
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def test_the_login_page_answers_429_at_the_limit_and_then_refuses_even_the_right_password(student, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert log_in("sam", "wrong").status_code == 200
    assert log_in("sam", "wrong").status_code == 429
    client = Client()
    blocked = log_in("sam", PASSWORD, client=client)
    assert blocked.status_code == 429
    assert "Too many failed login attempts" in blocked.content.decode()
    assert blocked["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_locked_after_the_limit(admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert log_in("ada", "wrong", path="/admin/login/").status_code == 200
    assert log_in("ada", "wrong", path="/admin/login/").status_code == 429
    client = Client()
    assert log_in("ada", PASSWORD, path="/admin/login/", client=client).status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_on_the_admin_login_and_the_site_login_count_together(student, settings):
    settings.AXES_FAILURE_LIMIT = 4
    for path in ("/admin/login/", "/accounts/login/", "/admin/login/"):
        log_in("sam", "wrong", path=path)
    assert log_in("sam", "wrong").status_code == 429
    assert log_in("sam", PASSWORD).status_code == 429


def test_a_full_width_look_alike_username_counts_against_the_same_user(student, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for username in ("sam", "ｓam", "SAM", "ｓａｍ"):
        assert log_in(username, "wrong").status_code == 200
    assert log_in("Sam", "wrong").status_code == 429
    # Django's login form turns ｓam into sam, so without the shared count this was a fresh set of tries.
    assert log_in("ｓam", PASSWORD).status_code == 429


def test_an_attacker_on_another_ip_cannot_lock_the_student_out(student, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(20):
        log_in("sam", "wrong", ip=ATTACKER_IP)
    assert log_in("sam", PASSWORD, ip=ATTACKER_IP).status_code == 429
    assert log_in("sam", PASSWORD, ip=STUDENT_IP).status_code == 302


def test_one_password_tried_across_many_usernames_from_one_ip_is_limited(student, other_student, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 10
    statuses = [log_in(f"user{n}", "Spring2026!", ip=ATTACKER_IP).status_code for n in range(12)]
    assert statuses == [200] * 9 + [429] * 3
    assert log_in("olga", PASSWORD, ip=ATTACKER_IP).status_code == 429
    assert log_in("olga", PASSWORD, ip=STUDENT_IP).status_code == 302


def test_a_successful_login_clears_that_pairs_failures_but_not_the_ips(student, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 5
    for _ in range(2):
        log_in("sam", "wrong")
    assert log_in("sam", PASSWORD).status_code == 302
    for _ in range(2):
        assert log_in("sam", "wrong").status_code == 200
    assert log_in("nobody", "wrong").status_code == 429  # the IP's 5th failure: a success refunds no failure


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(student, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = []
    for n in range(5):
        log_in("sam", "wrong", ip=ATTACKER_IP, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert log_in("sam", PASSWORD, ip=ATTACKER_IP, HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 429


def test_x_forwarded_for_is_read_from_the_right_when_a_trusted_proxy_sent_the_request(student, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = [PROXY_IP, "10.0.1.0/24"]
    # The attacker writes whatever it likes on the left; the proxies append the address they saw.
    for n in range(5):
        log_in("sam", "wrong", ip=PROXY_IP, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER_IP}, 10.0.1.5")
    forged = f"192.0.2.99, {ATTACKER_IP}"
    assert log_in("sam", PASSWORD, ip=PROXY_IP, HTTP_X_FORWARDED_FOR=forged).status_code == 429
    assert log_in("sam", PASSWORD, ip=PROXY_IP, HTTP_X_FORWARDED_FOR=STUDENT_IP).status_code == 302


def test_x_forwarded_for_from_a_client_that_is_not_a_trusted_proxy_is_ignored(student, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = [PROXY_IP]
    for _ in range(5):
        log_in("sam", "wrong", ip=ATTACKER_IP, HTTP_X_FORWARDED_FOR=STUDENT_IP)
    assert log_in("sam", PASSWORD, ip=ATTACKER_IP).status_code == 429
    assert log_in("sam", PASSWORD, ip=PROXY_IP, HTTP_X_FORWARDED_FOR=STUDENT_IP).status_code == 302


class SlowCountingHasher(MD5PasswordHasher):
    """MD5 that counts its password checks and takes a moment per check, as PBKDF2 does, so concurrent
    guesses overlap the way they do against the real hasher."""

    algorithm = "slow_counting_md5"
    checks = 0
    _lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with SlowCountingHasher._lock:
            SlowCountingHasher.checks += 1
        time.sleep(0.2)
        return super().verify(password, encoded)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks_and_then_a_lockout(settings):
    settings.PASSWORD_HASHERS = ["tests.test_views_login_limits.SlowCountingHasher"]
    settings.AXES_FAILURE_LIMIT = 5
    make_user("sam")
    SlowCountingHasher.checks = 0
    burst = 25
    start = threading.Barrier(burst)

    def guess(n: int) -> int:
        try:
            start.wait()
            return log_in("sam", f"guess-{n}", ip=ATTACKER_IP).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=burst) as pool:
        statuses = list(pool.map(guess, range(burst)))
    assert SlowCountingHasher.checks == 5
    # The five checked guesses were all counted before any finished, so each may already answer 429.
    assert set(statuses) <= {200, 429} and statuses.count(200) <= 4
    assert log_in("sam", PASSWORD, ip=ATTACKER_IP).status_code == 429
