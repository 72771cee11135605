"""Every page names the site's icon, and /favicon.ico (what browsers ask for on pages that name none, such as
the admin's) leads to it instead of a 404."""
from __future__ import annotations

from django.contrib.staticfiles import finders
from django.test import Client

from tests.exams_personas import classroom, fast_passwords  # noqa: F401 - fixtures


def test_favicon_ico_redirects_to_the_static_icon(db):
    response = Client().get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].startswith("/static/favicon")
    assert response["Location"].endswith(".svg")
    assert finders.find("favicon.svg")


def test_the_site_pages_link_the_icon(classroom):
    client = Client()
    client.force_login(classroom.student)
    page = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon' in page
