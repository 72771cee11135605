"""`manage.py check --deploy` is clean with the production environment documented in docs/deployment.md,
and the laptop defaults do not leak into it."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DLQUIZ_VAR_DIR": str(tmp_path),
        "DJANGO_HTTPS": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "quiz.example.edu",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://quiz.example.edu",
        "DJANGO_CACHE_URL": "redis://127.0.0.1:6379/1",
        "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
    })
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_reports_nothing_with_the_documented_production_environment(tmp_path):
    result = run_manage(production_environment(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_check_deploy_warns_when_login_failures_would_be_counted_per_process(tmp_path):
    env = production_environment(tmp_path)
    del env["DJANGO_CACHE_URL"]
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "dlquiz.W001" in result.stderr + result.stdout


def test_the_default_host_list_does_not_include_testserver(tmp_path):
    env = production_environment(tmp_path)
    del env["DJANGO_ALLOWED_HOSTS"]
    script = "from django.conf import settings; print(settings.ALLOWED_HOSTS)"
    result = run_manage(env, "shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['localhost', '127.0.0.1', '[::1]']"


def test_the_production_switch_turns_on_https_only_settings(tmp_path):
    names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
             "SECURE_PROXY_SSL_HEADER"]
    script = f"from django.conf import settings; print([getattr(settings, n) for n in {names!r}])"
    result = run_manage(production_environment(tmp_path), "shell", "--no-imports", "-c", script)
    assert result.stdout.strip() == "[True, 31536000, True, True, ('HTTP_X_FORWARDED_PROTO', 'https')]"
    env = production_environment(tmp_path)
    del env["DJANGO_TRUSTED_PROXIES"]
    result = run_manage(env, "shell", "--no-imports", "-c", script)
    assert result.stdout.strip() == "[True, 31536000, True, True, None]"
