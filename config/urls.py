"""Root URLs: the admin, log in / log out, and the exams app (which owns the site's pages)."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from exams.views.auth import LoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("exams.urls")),
]
