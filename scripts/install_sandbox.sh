#!/usr/bin/env bash
# Prepares and checks the runner's sandbox on this machine. scripts/setup.sh already does the preparing part
# (bubblewrap, the dlquiz-sandbox user); this script adds the checks and can be run alone to diagnose a
# machine where jobs come back "refused". Safe to run again. Changes nothing else on the host: the sandbox
# reaches the interpreter under /root through a private mount namespace, never through chmod.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "install_sandbox: $*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  need_apt=()
  command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
  for tool in setpriv unshare mount; do
    command -v "$tool" >/dev/null 2>&1 || need_apt+=(util-linux)
  done
  if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(printf '%s\n' "${need_apt[@]}" | sort -u) >/dev/null
  fi
  id dlquiz-sandbox >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dlquiz-sandbox
else
  command -v bwrap >/dev/null 2>&1 || fail "bubblewrap missing: sudo apt-get install bubblewrap"
fi

max_userns=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)
[ "$max_userns" -gt 0 ] || fail "user namespaces are disabled (user.max_user_namespaces=0); bwrap needs them"

[ -x .venv/bin/python ] || fail "no virtualenv: run scripts/setup.sh first"
# The real check: start a pool exactly as the application does (confinement self-check included).
.venv/bin/python - <<'PY'
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, os.getcwd())
import django
django.setup()
from runner.launch import RunnerSettings
from runner.pool import build_pool
pool = build_pool(RunnerSettings(pool_size=1, queue_limit=1, sandbox_uid=0, allow_unsandboxed_templates=False))
try:
    if not pool.plan.sandboxed:
        sys.exit(f"install_sandbox: the sandbox does not work here: {pool.plan.refusal}")
    print(f"install_sandbox: ok: {pool.plan.description}; confinement self-check passed")
finally:
    pool.close()
PY
