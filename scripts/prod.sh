#!/usr/bin/env bash
# The production profile on one machine: nginx in front of two gunicorn pools (pages; autosaves and state
# polls) + PostgreSQL + Redis, a Celery worker for grading, one for pre-generation and practice, and beat as
# its own single process. docs/deploy.md explains each part; config/proxy.py why the proxy.
#
#   bash scripts/prod.sh [--load]      # --load: import the question bank and the demo course first
#
# Uses the local PostgreSQL and Redis unless DATABASE_URL / CELERY_BROKER_URL / DJANGO_CACHE_URL say
# otherwise. Logs and pid files go to var/log and var/run (never committed). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
BIN=.venv/bin
[ -x "$PY" ] || bash scripts/setup.sh

load=0
for arg in "$@"; do
  case "$arg" in
    --load) load=1 ;;
    *) echo "usage: bash scripts/prod.sh [--load]" >&2; exit 2 ;;
  esac
done

export DLQUIZ_PRODUCTION=1
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dlquiz}
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}
export DJANGO_CACHE_URL=${DJANGO_CACHE_URL:-redis://127.0.0.1:6379/1}
export DJANGO_DB_CONN_MAX_AGE=${DJANGO_DB_CONN_MAX_AGE:-60}
PUBLIC_BIND=${WEB_BIND:-127.0.0.1:8000}  # what browsers reach: nginx, or gunicorn itself without nginx
PAGES_BIND=${PAGES_BIND:-127.0.0.1:8001}
SAVES_BIND=${SAVES_BIND:-127.0.0.1:8002}
PAGES_NICE=${PAGES_NICE:-10}
WORKER_NICE=${WORKER_NICE:-10}
VAR=${DLQUIZ_VAR_DIR:-var}
mkdir -p "$VAR/log" "$VAR/run"

if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ] && [ "${DLQUIZ_PROXY:-1}" = 1 ]; then
  echo "prod: installing nginx (Debian's nginx-light)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
fi
proxy=0
if [ "${DLQUIZ_PROXY:-1}" = 1 ] && command -v nginx >/dev/null; then
  proxy=1
  # nginx is the only client of both pools; Django believes its X-Forwarded-For (login limits by client IP).
  export DJANGO_TRUSTED_PROXIES=${DJANGO_TRUSTED_PROXIES:-127.0.0.1/32}
else
  echo "prod: no nginx (DLQUIZ_PROXY=0 or not installed): gunicorn serves $PUBLIC_BIND itself," \
    "WhiteNoise the static files"
fi

# The default database is created on first use (PostgreSQL's own tool, if it is installed).
if [ "$DATABASE_URL" = "postgres://postgres@127.0.0.1:5432/dlquiz" ] && command -v createdb >/dev/null; then
  createdb -h 127.0.0.1 -U postgres dlquiz 2>/dev/null || true
fi

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
if [ "$load" = 1 ]; then
  echo "prod: importing the question bank and the demo course"
  $PY manage.py import_templates bank
  $PY manage.py load_demo > "$VAR/log/load_demo.txt"
  cat "$VAR/log/load_demo.txt"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo "prod: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# Threads share one warm runner pool per worker process (a prefork child would start a pool of its own).
# Grading (quizzes, exams, and the timer's auto-submit on the default queue) never waits behind pre-generation.
nice -n "$WORKER_NICE" $BIN/celery -A config worker -Q grading,celery -n "grading@%h" --pool threads \
  --concurrency "${GRADING_CONCURRENCY:-4}" --loglevel INFO --without-mingle --without-gossip \
  --pidfile "$VAR/run/celery-grading.pid" > "$VAR/log/celery-grading.log" 2>&1 &
pids+=($!)
RUNNER_POOL_SIZE=${BULK_POOL_SIZE:-${RUNNER_POOL_SIZE:-0}} nice -n $((WORKER_NICE + 5)) \
  $BIN/celery -A config worker -Q bulk,practice -n "bulk@%h" --pool threads \
  --concurrency "${BULK_CONCURRENCY:-2}" --loglevel INFO --without-mingle --without-gossip \
  --pidfile "$VAR/run/celery-bulk.pid" > "$VAR/log/celery-bulk.log" 2>&1 &
pids+=($!)
# Exactly one beat, as its own process: a beat inside a worker outlives a kill -9 of that worker.
$BIN/celery -A config beat --loglevel INFO --schedule "$VAR/celerybeat-schedule" \
  --pidfile "$VAR/run/celery-beat.pid" > "$VAR/log/celery-beat.log" 2>&1 &
pids+=($!)
if [ "$proxy" = 1 ]; then
  # When the cores are short (a class starting at once) the kernel runs a save before a page: nice 0 for the
  # saves pool, PAGES_NICE for pages (nice 5 was not enough in one of two runs: docs/benchmarks.md).
  WEB_BIND=$PAGES_BIND nice -n "$PAGES_NICE" $BIN/gunicorn -c config/gunicorn.conf.py \
    --pid "$VAR/run/gunicorn.pid" --error-logfile "$VAR/log/gunicorn.log" config.wsgi:application &
  pids+=($!)
  WEB_BIND=$SAVES_BIND WEB_WORKERS=${SAVES_WORKERS:-2} $BIN/gunicorn -c config/gunicorn.conf.py \
    --pid "$VAR/run/gunicorn-saves.pid" --error-logfile "$VAR/log/gunicorn-saves.log" config.wsgi:application &
  pids+=($!)
  conf=$($PY -m config.proxy --listen "$PUBLIC_BIND" --pages "$PAGES_BIND" --saves "$SAVES_BIND" \
    --static-root "${DJANGO_STATIC_ROOT:-$VAR/staticfiles}" --var "$VAR")
  nginx -p "$VAR/nginx" -c "$conf" -g "daemon off;" &
  pids+=($!)
else
  WEB_BIND=$PUBLIC_BIND $BIN/gunicorn -c config/gunicorn.conf.py --pid "$VAR/run/gunicorn.pid" \
    --error-logfile "$VAR/log/gunicorn.log" config.wsgi:application &
  pids+=($!)
fi

# The address is printed once it answers (/healthz: the database through the pools), not while nginx would
# still say 502 because the workers are booting. A probe that never succeeds only warns: the stack stays up.
$PY - "http://$PUBLIC_BIND/healthz" <<'PY' || echo "prod: WARNING: $PUBLIC_BIND did not answer /healthz with 200 in 90 s (see $VAR/log)"
import sys, time, urllib.request
deadline = time.monotonic() + 90
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=5) as answer:
            if answer.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.5)
PY

cat <<TXT

  dlquiz (production profile) is running at  http://$PUBLIC_BIND/  (health: /healthz)
  database $DATABASE_URL, broker $CELERY_BROKER_URL, cache $DJANGO_CACHE_URL
  logs: $VAR/log/{gunicorn,gunicorn-saves,nginx-error,celery-grading,celery-bulk,celery-beat}.log
  Stop with Ctrl-C.

TXT
wait -n "${pids[@]}" || true
echo "prod: a process ended (see $VAR/log); stopping the others"
exit 1
