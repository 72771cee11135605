"""`/healthz` answers a load balancer without a login: 200 while the database answers (the cache is reported,
and its absence does not take the node out of rotation: saves and submits work without it), 503 when the
database does not; over plain HTTP on a node that sends browsers to HTTPS, under a Host that names the node
by its address, and for HEAD as for GET."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from config import health


@pytest.mark.django_db
def test_a_healthy_node_answers_200_without_a_login():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store" and "sessionid" not in response.cookies


@pytest.mark.django_db
def test_a_probe_over_plain_http_by_the_nodes_address_is_answered_not_redirected(settings):
    settings.SECURE_SSL_REDIRECT = True  # DJANGO_HTTPS=1: browsers are sent to https
    settings.ALLOWED_HOSTS = ["quiz.example.edu"]
    probe = Client(HTTP_HOST="10.0.0.7:8000")
    assert probe.get("/healthz").status_code == 200
    head = probe.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert Client(HTTP_HOST="10.0.0.7:8000").get("/accounts/login/").status_code == 400  # the rest still checks


@pytest.mark.django_db
def test_the_cache_down_is_reported_and_the_node_stays_in_rotation(monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(cache, "set", refused)
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_the_database_down_takes_the_node_out_of_rotation(monkeypatch):
    class Unreachable:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: Unreachable())
    response = Client().get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unavailable"
