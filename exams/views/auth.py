"""Login. Django's LoginView already rotates the session key (auth.login cycles it); failed logins are
limited by django-axes (exams/login_guard.py), whose lockout answer is `lockout_response` below."""
from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        if self.request.POST.get("remember_me"):
            self.request.session.set_expiry(settings.REMEMBER_ME_DAYS * 24 * 60 * 60)
        else:
            self.request.session.set_expiry(0)  # ends when the browser closes, or after the idle timeout
        return response


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page with a plain message and status 429, for both login forms."""
    cool_off_seconds = int(get_cool_off(request).total_seconds())
    context = {
        "form": AuthenticationForm(request),
        "rate_limited": True,
        "retry_after_minutes": math.ceil(cool_off_seconds / 60),
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(cool_off_seconds)
    return response
