"""Root URLs: the admin, log in / log out, and the exams app (which owns the site's pages). `/healthz` is
answered before any of these, by config.health's middleware."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from exams.views.auth import LoginView


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin's): the static icon, not a 404.
    Resolved per request (a hashed name needs the manifest) and not permanent (the hash changes with it)."""
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("favicon.ico", favicon),
    path("", include("exams.urls")),
]
