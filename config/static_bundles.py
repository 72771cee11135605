"""Static bundles: the quiz page's stylesheets and scripts, each set joined into one file.

A student's first quiz page used to fetch eleven stylesheets and scripts (ten static files and /pygments.css);
at the start of a class, 500 cold browser caches asked for 5,500 of them within seconds, each a request to a web
worker (and a connection of the load generator beside it). The bundles make that three. They are built from the
files in static/ (never committed, so the vendored sources stay the only copy) into settings.STATIC_BUNDLES_DIR,
by a staticfiles finder: runserver, the test server, WhiteNoise's finder mode and collectstatic all see them as
ordinary static files, rebuilt when a source changes. A stylesheet's relative url(...) is rebased onto the
bundle's folder, so KaTeX's fonts resolve (and ManifestStaticFilesStorage hashes them as before). The quiz
stylesheet also carries Pygments' colours, which other pages still load from /pygments.css.
"""
from __future__ import annotations

import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder, FileSystemFinder
from django.core.files.storage import FileSystemStorage

# Execution order is the pages' former order: the editor and the quiz script, then math typesetting.
BUNDLES: dict[str, tuple[str, ...]] = {
    "bundles/quiz.css": ("vendor/katex/katex.min.css", "vendor/codemirror/codemirror.css", "generated:pygments"),
    "bundles/quiz.js": (
        "vendor/codemirror/codemirror.js",
        "vendor/codemirror/mode/python/python.js",
        "vendor/codemirror/addon/edit/matchbrackets.js",
        "js/quiz.js",
        "vendor/katex/katex.min.js",
        "vendor/katex/contrib/auto-render.min.js",
        "js/math.js",
    ),
}


def _pygments_css() -> str:
    from quizbank.rendering import pygments_css  # the highlighting's colours, as /pygments.css serves them (cached)

    return pygments_css()


# Parts made by code rather than read from static/ ("generated:<name>" in a bundle's sources).
GENERATED: dict[str, Callable[[], str]] = {"pygments": _pygments_css}

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_BUILT: dict[str, tuple[Any, ...]] = {}  # bundle name: its sources' stamps (file mtime and size, generated text) at the last build


def bundle_dir() -> Path:
    return Path(settings.STATIC_BUNDLES_DIR)


def _rebase_css(css: str, source: str, bundle: str) -> str:
    def rebase(match: re.Match[str]) -> str:
        quote, url = match.group(1), match.group(2).strip()
        if url.startswith(("/", "data:", "http:", "https:", "#")) or "//" in url:
            return match.group(0)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(source), url))
        return f"url({quote}{posixpath.relpath(target, posixpath.dirname(bundle))}{quote})"

    return _CSS_URL.sub(rebase, css)


def _source_paths(name: str) -> list[tuple[str, str]]:
    """(source, path on disk) of each file part; a generated part has no path."""
    finder = FileSystemFinder()
    found = []
    for source in BUNDLES[name]:
        if source.startswith("generated:"):
            found.append((source, ""))
            continue
        path = finder.find(source)
        if not path:
            raise FileNotFoundError(f"static bundle {name}: source {source} is not in STATICFILES_DIRS")
        found.append((source, path))
    return found


def build(name: str) -> str:
    """The bundle's path on disk, (re)built if a source changed since this process last built it."""
    sources = _source_paths(name)
    generated = {source: GENERATED[source.split(":", 1)[1]]() for source, path in sources if not path}
    stamp = tuple((source, path, os.stat(path).st_mtime_ns, os.stat(path).st_size) if path
                  else (source, generated[source]) for source, path in sources)
    target = bundle_dir() / name
    if _BUILT.get(name) == stamp and target.exists():
        return str(target)
    parts = []
    for source, path in sources:
        text = Path(path).read_text(encoding="utf-8") if path else generated[source]
        if name.endswith(".css"):
            text = _rebase_css(text, source, name)
        parts.append(f"/* {source} */\n{text}")
    # A script's last statement may lack its semicolon: each part ends one.
    content = ("\n" if name.endswith(".css") else "\n;\n").join(parts) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, delete=False,
                                         suffix=".tmp") as handle:
            handle.write(content)
        os.replace(handle.name, target)  # atomic: two processes building at once both leave a whole file
    _BUILT[name] = stamp
    return str(target)


class BundleFinder(BaseFinder):
    """Finds `bundles/...` (built on demand) for every consumer of staticfiles finders."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(bundle_dir()))

    def check(self, **kwargs: Any) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str] | None:
        if kwargs.get("all"):  # Django < 6 still passes the old name
            find_all = True
        if path not in BUNDLES:
            return [] if find_all else None
        built = build(path)
        return [built] if find_all else built

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for name in BUNDLES:
            build(name)
            yield name, self.storage
