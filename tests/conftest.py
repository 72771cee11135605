"""Shared fixtures: the people who use the product, built by hand.

Personas: `instructor` and `ta` staff the course; `student` takes it; `outsider` is logged in but belongs to
no course; `admin_user` is a superuser for the Django admin.
"""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple"


def make_user(username: str, **extra) -> object:
    user_model = get_user_model()
    return user_model.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.edu",
                                          first_name=username.title(), **extra)


@pytest.fixture
def admin_user(db):
    return make_user("ada", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
