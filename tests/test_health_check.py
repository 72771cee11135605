"""`/healthz` answers a load balancer without a login: 200 while the database answers (the cache is reported,
and its absence does not take the node out of rotation: saves and submits work without it), 503 when the
database does not."""
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
    assert "no-cache" in response["Cache-Control"] and "sessionid" not in response.cookies


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
