"""Login with throttling. Django's LoginView already rotates the session key (auth.login cycles it)."""
from __future__ import annotations

import math

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from exams.throttle import LoginThrottle


class ThrottledLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = LoginThrottle.for_request(request)
        if throttle.is_blocked():
            return self.rate_limited_response(throttle)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            throttle.clear()
        else:
            throttle.record_failure()
        return response

    def rate_limited_response(self, throttle: LoginThrottle) -> HttpResponse:
        context = self.get_context_data(form=self.get_form_class()(self.request),
                                        rate_limited=True,
                                        retry_after_minutes=math.ceil(throttle.window_seconds / 60))
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(throttle.window_seconds)
        return response
