"""Markdown with LaTeX math and highlighted code, turned into the HTML students see.

Math is cut out before Markdown runs (so `_` and `*` inside formulas survive) and put back as `\\(...\\)` /
`\\[...\\]` for KaTeX to typeset in the browser; code is highlighted on the server with Pygments.

Authors are not trusted with the page: Markdown passes raw HTML through, so every fragment is cut down to an
allow-list (sanitise_html) before anyone marks it safe. Templates receive HTML already cached in variants
rendered before sanitising existed, so the views sanitise again where they hand HTML to a page.
"""
from __future__ import annotations

import html
import re
import threading
from functools import lru_cache

import markdown
import nh3
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound
from pygments.token import STANDARD_TYPES

_FENCE_RE = re.compile(r"(^```.*?^```[ \t]*$|`[^`\n]+`)", re.MULTILINE | re.DOTALL)
_DISPLAY_MATH_RE = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH_RE = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")
_FORMATTER = HtmlFormatter(cssclass="highlight", nowrap=False)

_PYGMENTS_CLASSES = {name for name in STANDARD_TYPES.values() if name}
# What Markdown (with the extensions below), Pygments and the math placeholders produce, and nothing that
# runs: no script/style/iframe/object/form/svg, no on* or style attributes, no id (DOM clobbering of the
# page's own scripts), and only http(s)/mailto or relative URLs.
_CLEANER = nh3.Cleaner(
    tags={
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
        "s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "u", "ul", "var",
    },
    clean_content_tags={"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math",
                        "textarea", "select", "title"},
    attributes={
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "abbr": {"title"},
        "ol": {"start"},
        "th": {"align", "colspan", "rowspan"},
        "td": {"align", "colspan", "rowspan"},
    },
    allowed_classes={
        "span": _PYGMENTS_CLASSES | {"math", "inline"},
        "div": {"highlight", "codehilite", "math", "display"},
        "code": {"language-python", "language-text"},
    },
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitise_html(fragment: str | None) -> str:
    """Authored HTML cut down to the allow-list above; cheap enough to run on every page view."""
    if not fragment:
        return ""
    return _CLEANER.clean(fragment)


@lru_cache(maxsize=1024)
def highlight_python(code: str) -> str:
    if not code:
        return ""
    return sanitise_html(highlight(code, PythonLexer(), _FORMATTER))


_local = threading.local()


def _markdown_converter() -> markdown.Markdown:
    """One converter per thread, reset before each use: building one costs more than most conversions
    (pre-generation renders thousands of stems and options). A Markdown instance is not thread-safe."""
    converter = getattr(_local, "markdown", None)
    if converter is None:
        converter = _local.markdown = markdown.Markdown(
            extensions=["fenced_code", "codehilite", "tables", "sane_lists"],
            # align= rather than style=: the sanitiser keeps no style attribute.
            extension_configs={"codehilite": {"guess_lang": False, "css_class": "highlight"},
                               "tables": {"use_align_attribute": True}},
        )
    return converter


@lru_cache(maxsize=4096)  # a pure function of its text; MCQ options repeat across a class's variants
def render_markdown(text: str) -> str:
    if not text:
        return ""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"\x00{len(stash) - 1}\x00"

    def protect_math(segment: str) -> str:
        segment = _DISPLAY_MATH_RE.sub(
            lambda m: keep(f'<div class="math display">\\[{html.escape(m.group(1).strip())}\\]</div>'), segment
        )
        return _INLINE_MATH_RE.sub(lambda m: keep(f'<span class="math inline">\\({html.escape(m.group(1))}\\)</span>'),
                                   segment)

    def protect(part: str) -> str:
        if not _FENCE_RE.fullmatch(part):
            return protect_math(part)
        block = _CODE_BLOCK_RE.fullmatch(part)
        # A fenced block is highlighted here, once per text (the same HTML Markdown's codehilite writes):
        # codehilite built a new formatter and its stylesheet for every block of every variant.
        return f"\n\n{keep(_highlighted_block(block.group(1), block.group(2)))}\n\n" if block else part

    protected = "".join(protect(part) for part in _FENCE_RE.split(text))
    rendered = _markdown_converter().reset().convert(protected)
    rendered = re.sub(r"<p>\x00(\d+)\x00</p>", lambda m: stash[int(m.group(1))], rendered)
    return sanitise_html(re.sub(r"\x00(\d+)\x00", lambda m: stash[int(m.group(1))], rendered))


_CODE_BLOCK_RE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^```[ \t]*", re.MULTILINE | re.DOTALL)
_BLOCK_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


@lru_cache(maxsize=4096)
def _highlighted_block(language: str, code: str) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(code, lexer, _BLOCK_FORMATTER)


@lru_cache(maxsize=1)
def pygments_css() -> str:
    return _FORMATTER.get_style_defs(".highlight")
