"""The quiz page's scripts and stylesheets are served as one file each (config/static_bundles.py), built from
the sources in static/ and rebuilt when one changes."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings

from config import static_bundles
from config.static_bundles import BUNDLES, BundleFinder, build

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_the_quiz_script_bundle_holds_every_source_in_the_pages_order():
    bundle = Path(finders.find("bundles/quiz.js")).read_text(encoding="utf-8")
    positions = [bundle.index((STATIC / source).read_text(encoding="utf-8").strip()[:200])
                 for source in BUNDLES["bundles/quiz.js"]]
    assert positions == sorted(positions)
    assert "renderMathInElement" in bundle and "CodeMirror" in bundle


def test_the_stylesheet_bundle_points_katex_fonts_at_their_real_folder():
    css = Path(finders.find("bundles/quiz.css")).read_text(encoding="utf-8")
    assert "url(fonts/" not in css
    assert "url(../vendor/katex/fonts/KaTeX_Main-Regular.woff2)" in css
    assert finders.find("vendor/katex/fonts/KaTeX_Main-Regular.woff2")


def test_collectstatic_sees_the_bundles_through_the_finder():
    names = [name for name, _ in BundleFinder().list([])]
    assert set(names) == set(BUNDLES)


def test_an_edited_source_is_in_the_bundle_at_the_next_lookup(tmp_path, monkeypatch):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("var a = 1")
    (tmp_path / "js" / "b.js").write_text("var b = 2")
    monkeypatch.setitem(BUNDLES, "bundles/test.js", ("js/a.js", "js/b.js"))
    with override_settings(STATICFILES_DIRS=[tmp_path], STATIC_BUNDLES_DIR=tmp_path / "built"):
        first = Path(build("bundles/test.js")).read_text()
        assert "var a = 1\n;\n" in first and "var b = 2" in first  # a statement without ';' still ends
        source = tmp_path / "js" / "b.js"
        source.write_text("var b = 3")
        import os
        os.utime(source, ns=(source.stat().st_mtime_ns + 10**9,) * 2)
        assert "var b = 3" in Path(build("bundles/test.js")).read_text()


def test_a_bundle_with_a_missing_source_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(BUNDLES, "bundles/broken.js", ("js/gone.js",))
    with override_settings(STATICFILES_DIRS=[tmp_path], STATIC_BUNDLES_DIR=tmp_path / "built"):
        with pytest.raises(FileNotFoundError, match="js/gone.js"):
            build("bundles/broken.js")


def test_a_stylesheets_absolute_and_data_urls_are_left_alone():
    css = "a{background:url(data:image/png;base64,xx)} b{src:url('/static/x.woff')} c{src:url(\"img/y.png\")}"
    rebased = static_bundles._rebase_css(css, "vendor/lib/lib.css", "bundles/quiz.css")
    assert "url(data:image/png;base64,xx)" in rebased and "url('/static/x.woff')" in rebased
    assert 'url("../vendor/lib/img/y.png")' in rebased


def test_the_stylesheet_bundle_carries_the_highlighting_colours_the_stylesheet_view_serves(client):
    css = Path(finders.find("bundles/quiz.css")).read_text(encoding="utf-8")
    served = client.get("/pygments.css").content.decode()
    assert ".highlight" in served and served.strip() in css
