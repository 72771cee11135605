"""Markdown with LaTeX math and highlighted code, turned into the HTML students see.

Math is cut out before Markdown runs (so `_` and `*` inside formulas survive) and put back as `\\(...\\)` /
`\\[...\\]` for KaTeX to typeset in the browser; code is highlighted on the server with Pygments.
"""
from __future__ import annotations

import html
import re

import markdown
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

_FENCE_RE = re.compile(r"(^```.*?^```[ \t]*$|`[^`\n]+`)", re.MULTILINE | re.DOTALL)
_DISPLAY_MATH_RE = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH_RE = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")
_FORMATTER = HtmlFormatter(cssclass="highlight", nowrap=False)


def highlight_python(code: str) -> str:
    if not code:
        return ""
    return highlight(code, PythonLexer(), _FORMATTER)


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

    parts = _FENCE_RE.split(text)
    protected = "".join(part if _FENCE_RE.fullmatch(part) else protect_math(part) for part in parts)
    rendered = markdown.markdown(
        protected,
        extensions=["fenced_code", "codehilite", "tables", "sane_lists"],
        extension_configs={"codehilite": {"guess_lang": False, "css_class": "highlight"}},
    )
    return re.sub(r"\x00(\d+)\x00", lambda m: stash[int(m.group(1))], rendered)


def pygments_css() -> str:
    return _FORMATTER.get_style_defs(".highlight")
