"""The one settings module. Everything that differs between a laptop and a real deployment comes from the
environment (see config/env.py); the defaults are safe for a laptop: SQLite, a filesystem Celery broker,
DEBUG off unless asked for."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from config.env import (
    ImproperSetting,
    cache_from_url,
    database_from_url,
    env_bool,
    env_int,
    env_ip_networks,
    env_list,
    env_str,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DLQUIZ_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    # A laptop gets a per-checkout random key kept under var/, never a key committed to git.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# No "testserver" here: pytest-django adds it while tests run, and a production host list must not have it.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "quizbank",
    "runner",
    "exams",
]

# DLQUIZ_PRODUCTION=1 (scripts/prod.sh sets it): the served profile, with collected, compressed and
# content-hashed static files served by WhiteNoise, and sessions read from the cache. Off, pages find static
# files without a collectstatic (runserver, tests).
PRODUCTION = env_bool("DLQUIZ_PRODUCTION", False)

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",  # first: a load balancer's probe needs no HTTPS redirect nor host
    "django.middleware.security.SecurityMiddleware",
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if PRODUCTION else []),
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "exams.session_idle.SessionIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: it turns a locked-out request into the 429 page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_database_url, BASE_DIR)
    if _database_url
    else sqlite_database(VAR_DIR / "dlquiz.sqlite3")
}

if env_str("DJANGO_DB_CONN_MAX_AGE"):
    # Persistent connections (seconds; 0 closes after each request), checked before reuse so a restarted
    # database costs one failed check rather than a failed request.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_DB_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# --- Shared cache ---------------------------------------------------------------------------------------
# Login failures are counted here, so every web process must share it: Redis in production (use a database
# number other than the Celery broker's), a per-process LocMemCache on a laptop's single runserver.
CACHES = {"default": cache_from_url(env_str("DJANGO_CACHE_URL"))}

# --- Login protection (django-axes; exams/login_guard.py; docs/deployment.md "Security settings") ---------
# A (username, client IP) pair is locked after AXES_FAILURE_LIMIT failures, so an attacker elsewhere cannot
# lock a student out; an IP is locked across all usernames after LOGIN_IP_FAILURE_LIMIT, so one password
# cannot be tried against the whole class. Both end AXES_COOLOFF_TIME after the last counted failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out attempt before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "exams.login_guard.LoginAttemptHandler"
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = env_int("DJANGO_LOGIN_IP_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_CALLABLE = "exams.login_guard.normalised_username"
AXES_CLIENT_IP_CALLABLE = "exams.login_guard.client_ip"
AXES_LOCKOUT_CALLABLE = "exams.views.auth.lockout_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts neither count nor prolong a lockout
AXES_ENABLE_ADMIN = False  # its admin pages list database attempts; this handler counts in the cache
# Addresses (or CIDR ranges) of the reverse proxies in front of Django. Only a request whose REMOTE_ADDR is
# one of them has its X-Forwarded-For (client IP) and X-Forwarded-Proto (HTTPS) headers believed.
TRUSTED_PROXIES = env_ip_networks("DJANGO_TRUSTED_PROXIES")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Asia/Baku")  # the syllabus's deadlines are Baku time
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# The quiz page's scripts and stylesheets joined into one file each (config/static_bundles.py), built here.
STATIC_BUNDLES_DIR = VAR_DIR / "static-bundles"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.static_bundles.BundleFinder",
]
if PRODUCTION and env_bool("DJANGO_STATIC_MANIFEST", True):
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        # Hashed names (cached for a year by browsers) and gzip/brotli copies, made once by collectstatic.
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
elif PRODUCTION:
    WHITENOISE_USE_FINDERS = True  # static/ served as it is, without a collectstatic (the small load test)
if PRODUCTION and CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # A session is read on every request: from Redis, with the database row as the durable copy.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the quiz page's autosave reads it to send X-CSRFToken
# Sessions end when the browser closes, or after DJANGO_SESSION_IDLE_MINUTES without a request
# (exams/session_idle.py), unless "remember me" was ticked at login: then REMEMBER_ME_DAYS.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_MINUTES", 120) * 60
REMEMBER_ME_DAYS = env_int("DJANGO_REMEMBER_ME_DAYS", 14)

# DJANGO_HTTPS=1 is the production switch: the site is served over HTTPS only.
HTTPS = env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 60 * 60) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if TRUSTED_PROXIES:
    # Django believes this header from anyone; the named proxy must set it (overwriting the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = [
    # security.W021 asks for SECURE_HSTS_PRELOAD. Preloading commits the whole registrable domain (the
    # university's, usually) to HTTPS in every browser, for months; that is the domain owner's call.
    "security.W021",
]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp) ---------------------------------------------------------------
# No inline script anywhere: page scripts are static files that read data- attributes. Styles: <style>
# elements and stylesheets only from us (style-src-elem), but style *attributes* stay allowed
# (style-src-attr) because our templates and Django's admin still carry a few; KaTeX and CodeMirror style
# through the CSSOM, which CSP does not police. Authored HTML never has a style attribute: the sanitiser in
# quizbank.rendering drops it. style-src is the fallback for browsers without the -elem/-attr directives.
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],  # KaTeX's fonts are vendored under static/vendor/katex/fonts
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Celery -------------------------------------------------------------------------------------------
# Default: a filesystem broker under var/, so a laptop needs no Redis or RabbitMQ; a real worker still runs.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_broker_dir = VAR_DIR / "celery-broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True  # tasks write their outcome to the database; nothing reads Celery results
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # exams: close attempts whose time ran out (students who closed the browser), and re-send lost code grading.
    "exams-auto-submit-expired": {"task": "exams.auto_submit_expired", "schedule": 30.0},
    # Every minute: a worker killed mid-grading is recovered one stale-claim time after its claim, not up to
    # two (the sweep is one indexed query).
    "exams-redispatch-stalled-grading": {"task": "exams.redispatch_stalled_grading", "schedule": 60.0},
    # exams.analytics: recompute cached item analyses whose grades changed (viewed in the last 14 days).
    "exams-refresh-stale-statistics": {"task": "exams.refresh_stale_statistics", "schedule": 60.0},
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_IMPORTS = ("exams.analytics.tasks",)  # autodiscovery finds exams.tasks only
# Code grading by urgency (exams.fair_use.route_task): quizzes and exams on `grading`, practice on `practice`.
# Declared here so a worker started without -Q consumes every queue; a deployment may add a `-Q grading` worker.
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Pre-generating a class's variants goes to `bulk`, so a worker on `grading` alone (scripts/prod.sh) is never
# stuck behind minutes of pre-generation.
CELERY_TASK_QUEUES = {"grading": {}, "celery": {}, "practice": {}, "bulk": {}}
# Answer groups (exams.answer_groups: a sentence-embedding model on the CPU) go to `bulk` too.
CELERY_TASK_ROUTES = ["exams.fair_use.route_task", {"exams.pregenerate*": {"queue": "bulk"},
                                                   "exams.group_answers": {"queue": "bulk"},
                                                   "exams.prepare_attempt_variants": {"queue": "grading"},
                                                   "exams.grade_unprepared_responses": {"queue": "grading"}}]
# A quiz page, submit or results page whose variant was not pre-generated: generate it in the web process (the
# embedded profile, one machine), or leave it to a grading worker (the production profile: web processes never
# run template code nor start a runner pool): the quiz page waits for it, a submit's answer is graded by
# the worker, a results page shows the question as being prepared.
QUIZ_PAGE_GENERATES_VARIANTS = env_bool("QUIZ_PAGE_GENERATES_VARIANTS", not PRODUCTION)

# --- Runner -------------------------------------------------------------------------------------------
RUNNER_POOL_SIZE = env_int("RUNNER_POOL_SIZE", 0)  # 0 = one sandbox per core
RUNNER_SANDBOX_UID = env_int("RUNNER_SANDBOX_UID", 0)  # 0 = the dedicated 'dlquiz-sandbox' user
# Fair use (exams.fair_use): code jobs one student may have running at once, and practice starts per window.
RUNNER_MAX_JOBS_PER_STUDENT = env_int("RUNNER_MAX_JOBS_PER_STUDENT", 2)
# A code-grading claim older than this belongs to a dead worker: the redispatch sweep sends it again and another
# worker takes it over (exams.grading.stale_claim). Also how long a QUEUED answer waits before it is re-sent.
GRADING_STALE_CLAIM_SECONDS = env_int("GRADING_STALE_CLAIM_SECONDS", 300)
# Answers on one page of the grading-by-question list (exams.views.grading_by_question).
GRADING_PAGE_SIZE = env_int("GRADING_PAGE_SIZE", 50)
PRACTICE_STARTS_PER_WINDOW = env_int("PRACTICE_STARTS_PER_WINDOW", 10)
PRACTICE_START_WINDOW_MINUTES = env_int("PRACTICE_START_WINDOW_MINUTES", 10)
# Development only, loudly logged, never in CI: run *template* code without bubblewrap if it is missing.
# Student code is always refused without the sandbox.
RUNNER_ALLOW_UNSANDBOXED_TEMPLATES = env_bool("RUNNER_ALLOW_UNSANDBOXED_TEMPLATES", False)
if RUNNER_ALLOW_UNSANDBOXED_TEMPLATES and env_bool("CI", False):
    raise ImproperSetting("RUNNER_ALLOW_UNSANDBOXED_TEMPLATES may not be set in CI")

# --- Quizbank -----------------------------------------------------------------------------------------
QUIZBANK_TEMPLATE_DIRS = [BASE_DIR / "bank"]
# Seeds the self-test runs before import or the admin's Save accepts a template (0: only static checks).
QUIZBANK_CHECK_SEEDS = env_int("QUIZBANK_CHECK_SEEDS", 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
