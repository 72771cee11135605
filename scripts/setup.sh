#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: Debian packages (bubblewrap for the sandbox,
# Chromium for browser tests, nginx for the production profile), the sandbox user, a virtualenv with
# torch==2.13.0 installed first (any other torch spec pulls several GB of CUDA wheels), then the project's
# dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)  # the production profile's proxy (config/proxy.py)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install Debian packages: ${need_apt[*]} (sudo apt-get install ...)" >&2
  fi
fi

# The sandbox runs untrusted code as this dedicated unprivileged user (never as root, never as 'nobody'
# which other daemons share).
if [ "$(id -u)" = 0 ] && ! id dlquiz-sandbox >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin dlquiz-sandbox
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
pip() { .venv/bin/python -m pip "$@"; }
if ! .venv/bin/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  echo "setup: installing torch==2.13.0 (CPU build)"
  pip install -q torch==2.13.0
fi
stamp=.venv/.deps-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: installing project dependencies"
  deps=$(.venv/bin/python - <<'PY'
import tomllib
data = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(data["dependencies"] + data["optional-dependencies"]["test"]))
PY
)
  # shellcheck disable=SC2086
  echo "$deps" | tr '\n' '\0' | xargs -0 .venv/bin/python -m pip install -q
  rm -f .venv/.deps-*
  touch "$stamp"
fi
