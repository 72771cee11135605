#!/usr/bin/env bash
# Installs everything, loads the question bank and the demo course, starts a Celery worker (with beat) and
# the web server, and prints the URL and the logins. SQLite and a filesystem broker: no external service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var/log

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
echo "run: importing the question bank (each new or changed template is checked on 20 seeds first; unchanged ones are skipped)"
$PY manage.py import_templates bank
$PY manage.py load_demo > var/log/load_demo.txt
cat var/log/load_demo.txt

# One worker process with threads: its threads share one warm runner pool (a prefork worker would start a
# pool of sandboxes per child process, ~220 MB each).
echo "run: starting the Celery worker (log: var/log/celery.log)"
.venv/bin/celery -A config worker --beat --pool threads --concurrency 4 --loglevel INFO \
  --schedule var/celerybeat-schedule > var/log/celery.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

cat <<TXT

  dlquiz is running at  http://$HOST:$PORT/
  Django admin:         http://$HOST:$PORT/admin/
  Logins are listed above (load_demo). Stop with Ctrl-C.

TXT
# --insecure serves static files with DEBUG off; this command is the laptop demo, not a deployment.
$PY manage.py runserver "$HOST:$PORT" --noreload --insecure
