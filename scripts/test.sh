#!/usr/bin/env bash
# Installs everything and runs the whole test suite.
#  Lane 1 (always): SQLite, every test except the production lane.
#  Lane 2 (when PostgreSQL on 127.0.0.1:5432 and Redis on 6379 answer): every test that touches the database
#  again on PostgreSQL, plus the tests that start a real Celery worker on Redis. (The runner, sandbox, bank and
#  browser tests do not depend on the database engine and run once, in lane 1.) Skipped, saying so, when the
#  services are not there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=.venv/bin/python
export PYTHONDONTWRITEBYTECODE=1

echo "== lane 1: SQLite"
$PY -m pytest -p no:cacheprovider "$@"

reachable() { $PY - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}
if reachable 127.0.0.1 5432 && reachable 127.0.0.1 6379; then
  echo "== lane 2: PostgreSQL + Redis + a real Celery worker"
  DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
  CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15} \
  DJANGO_CACHE_URL=${TEST_CACHE_URL:-redis://127.0.0.1:6379/14} \
  DLQUIZ_PRODUCTION_LANE=1 \
    $PY -m pytest -p no:cacheprovider -m "not browser" "$@" \
      tests/test_production_lane.py tests/test_production_faults.py tests/test_production_web_worker_killed.py tests/test_production_two_workers.py tests/test_production_load_small.py tests/test_production_load_through_proxy.py tests/test_redis_cache_client.py tests/test_start_path_efficiency.py tests/test_submit_and_result_efficiency.py tests/test_submit_leaves_missing_variants_to_a_worker.py tests/test_runner_fair_use.py tests/test_template_versioning.py tests/test_template_admin.py \
      tests/test_exams_*.py tests/test_views_*.py tests/test_security_web.py
else
  echo "== lane 2 skipped: PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not reachable"
fi
