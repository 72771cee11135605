"""The production profile's nginx (config/proxy.py), run for real in front of two small HTTP servers that stand
in for the gunicorn pools and say which pool answered: autosaves and state polls reach the saves pool, every
other path the pages pool, static files never reach either, and a client's own X-Forwarded-For is replaced."""
from __future__ import annotations

import gzip
import http.client
import http.server
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from config.proxy import ProxyLayout, write_nginx_conf
from tests.production_support import free_port

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (scripts/setup.sh)")

HASHED_STYLESHEET = "bundles/quiz.0123456789ab.css"


class _NamedPool(http.server.BaseHTTPRequestHandler):
    pool_name = ""

    def _answer(self) -> None:
        body = f"{self.pool_name} {self.path} xff={self.headers.get('X-Forwarded-For')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def _pool(name: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type(f"{name}Handler", (_NamedPool,), {"pool_name": name})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def proxy() -> Iterator[tuple[str, Path]]:
    folder = Path(tempfile.mkdtemp(prefix="dlquiz-proxy-test-"))
    folder.chmod(0o755)  # nginx's workers drop to www-data when the test runs as root
    static_root = folder / "static"
    (static_root / "bundles").mkdir(parents=True)
    stylesheet = b"body { color: #123; }\n" * 200
    (static_root / HASHED_STYLESHEET).write_bytes(stylesheet)
    (static_root / (HASHED_STYLESHEET + ".gz")).write_bytes(gzip.compress(stylesheet))
    (static_root / "site.css").write_bytes(b"p {}\n")
    pages, pages_address = _pool("pages")
    saves, saves_address = _pool("saves")
    listen = f"127.0.0.1:{free_port()}"
    conf = write_nginx_conf(ProxyLayout(listen=listen, pages_upstream=pages_address, saves_upstream=saves_address,
                                        static_root=static_root, var_dir=folder / "var"))
    nginx = subprocess.Popen(["nginx", "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(tuple(listen.split(":")), timeout=1).close()  # type: ignore[arg-type]
            break
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nginx did not start: {nginx.stderr.read().decode() if nginx.stderr else ''}")
            time.sleep(0.05)
    try:
        yield listen, static_root
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        pages.shutdown()
        saves.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def _request(listen: str, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> http.client.HTTPResponse:
    host, port = listen.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def test_autosaves_and_state_polls_reach_the_saves_pool_and_everything_else_the_pages_pool(proxy):
    listen, _ = proxy
    save_path = reverse("exams:autosave", args=[41])
    state_path = reverse("exams:attempt_state", args=[41])
    for path in (save_path, state_path):
        assert _request(listen, "POST", path, body=b"{}").body.startswith(b"saves " + path.encode())
    for path in (reverse("exams:attempt", args=[41]), reverse("exams:submit_attempt", args=[41]),
                 reverse("exams:assessment", args=[7]), "/attempts/41/save/extra", "/accounts/login/"):
        assert _request(listen, "POST", path, body=b"{}").body.startswith(b"pages " + path.encode())


def test_static_files_are_sent_by_nginx_compressed_and_cached_for_good_when_their_name_is_hashed(proxy):
    listen, static_root = proxy
    hashed = _request(listen, "GET", "/static/" + HASHED_STYLESHEET, {"Accept-Encoding": "gzip"})
    assert hashed.status == 200 and hashed.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(hashed.body) == (static_root / HASHED_STYLESHEET).read_bytes()  # type: ignore[attr-defined]
    assert "immutable" in hashed.getheader("Cache-Control", "")
    plain = _request(listen, "GET", "/static/site.css")
    assert plain.status == 200 and plain.body == b"p {}\n"  # type: ignore[attr-defined]
    assert plain.getheader("Cache-Control") == "public, max-age=60"
    assert _request(listen, "GET", "/static/missing.css").status == 404  # never passed on to Django


def test_a_client_cannot_choose_the_forwarded_address_django_sees(proxy):
    listen, _ = proxy
    answer = _request(listen, "GET", "/accounts/login/", {"X-Forwarded-For": "203.0.113.9"}).body
    assert answer.endswith(b"xff=127.0.0.1")  # type: ignore[union-attr]
