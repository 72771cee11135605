"""The reverse proxy of the production profile: nginx in front of two gunicorn pools (scripts/prod.sh,
benchmarks/class_load.py; docs/deploy.md).

Why a proxy on one machine too:
- static files are sent by nginx from STATIC_ROOT (WhiteNoise's precompressed .gz beside each file), so a
  cold browser's three files never occupy a Python worker: measured, 1,500 static requests took ~2 s of
  gunicorn CPU and queued the class's pages behind them;
- autosaves and the quiz page's state polls go to a pool of their own, so a save (a few ms) never waits in
  the accept queue behind page loads when 500 students start at once;
- sync gunicorn workers must not talk to slow clients (gunicorn's own deployment advice): nginx buffers
  requests and responses, and a worker is busy only while Django works.

nginx is the edge: it overwrites X-Forwarded-For with the address it saw (a client's own header is dropped),
and Django believes that header only from DJANGO_TRUSTED_PROXIES (exams/login_guard.client_ip).

    python -m config.proxy --listen 127.0.0.1:8000 --pages 127.0.0.1:8001 --saves 127.0.0.1:8002 \
        --static-root var/staticfiles --var var      # writes var/nginx/nginx.conf, prints its path
"""
from __future__ import annotations

import argparse
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

# The quick student JSON endpoints (exams/urls.py: autosave and attempt_state) that the saves pool serves.
QUICK_PATHS = r"^/attempts/[0-9]+/(save|state)$"


@dataclass(frozen=True)
class ProxyLayout:
    listen: str  # host:port browsers reach
    pages_upstream: str  # host:port of the gunicorn pool for pages and everything else
    saves_upstream: str  # host:port of the gunicorn pool for QUICK_PATHS
    static_root: Path  # collectstatic's output
    var_dir: Path  # nginx's pid, temporary files and logs go under it
    static_url: str = "/static/"
    max_body: str = "30m"  # instructors upload notebooks and question files through the browser
    timeout_seconds: int = 75  # above gunicorn's 60 s timeout, so gunicorn's answer is the one seen
    worker_processes: int = 1  # one event loop serves thousands of connections; the cores belong to Python


def render_nginx_conf(layout: ProxyLayout) -> str:
    var = layout.var_dir.resolve()
    static_root = layout.static_root.resolve()
    user = f"user {worker_user()};\n" if os.geteuid() == 0 else ""
    return f"""# Written by config/proxy.py; do not edit (it is written again at every start).
{user}worker_processes {layout.worker_processes};
pid {var}/run/nginx.pid;
error_log {var}/log/nginx-error.log warn;
events {{ worker_connections 8192; }}
worker_rlimit_nofile 20000;

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    keepalive_timeout 30s;  # longer than the quiz page's 15 s autosave rhythm
    client_max_body_size {layout.max_body};
    client_body_temp_path {var}/nginx/client_body;
    proxy_temp_path {var}/nginx/proxy;
    fastcgi_temp_path {var}/nginx/fastcgi;
    uwsgi_temp_path {var}/nginx/uwsgi;
    scgi_temp_path {var}/nginx/scgi;

    # Content-hashed names (app.3f2a9c1b0d4e.js) never change; other names may.
    map $uri $static_cache_control {{
        "~\\.[0-9a-f]{{12}}\\.[A-Za-z0-9]+$" "public, max-age=31536000, immutable";
        default "public, max-age=60";
    }}

    upstream pages {{ server {layout.pages_upstream}; }}
    upstream saves {{ server {layout.saves_upstream}; }}

    server {{
        listen {layout.listen} backlog=4096;

        location {layout.static_url} {{
            alias {static_root}/;
            gzip_static on;
            add_header Cache-Control $static_cache_control;
        }}

        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout {layout.timeout_seconds}s;
        proxy_send_timeout {layout.timeout_seconds}s;
        proxy_buffers 16 32k;

        location ~ "{QUICK_PATHS}" {{ proxy_pass http://saves; }}
        location / {{ proxy_pass http://pages; }}
    }}
}}
"""


TEMP_FOLDERS = ("nginx/client_body", "nginx/proxy", "nginx/fastcgi", "nginx/uwsgi", "nginx/scgi")


def worker_user() -> str:
    """Started as root, nginx's workers drop to this user (Debian's nginx package creates it), which must
    read STATIC_ROOT and write the temporary folders."""
    try:
        pwd.getpwnam("www-data")
        return "www-data"
    except KeyError:
        return "nobody"


def write_nginx_conf(layout: ProxyLayout) -> Path:
    var = layout.var_dir.resolve()
    for folder in ("run", "log", *TEMP_FOLDERS):
        (var / folder).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        account = pwd.getpwnam(worker_user())
        for folder in TEMP_FOLDERS:  # large uploads are buffered here by the workers
            os.chown(var / folder, account.pw_uid, account.pw_gid)
    path = var / "nginx" / "nginx.conf"
    path.write_text(render_nginx_conf(layout))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--pages", required=True)
    parser.add_argument("--saves", required=True)
    parser.add_argument("--static-root", required=True, type=Path)
    parser.add_argument("--var", required=True, type=Path)
    args = parser.parse_args(argv)
    print(write_nginx_conf(ProxyLayout(listen=args.listen, pages_upstream=args.pages, saves_upstream=args.saves,
                                       static_root=args.static_root, var_dir=args.var)))


if __name__ == "__main__":
    main()
