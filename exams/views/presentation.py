"""Turning a variant's public part (and a student's saved text or review item) into what a template shows.

Presentation only: nothing here looks at an answer key. Review items carry the key-derived fields
(`correct_answer`, `explanation_html`) only when exams.grading.attempt_review released them.

Every *_html value handed to a template is sanitised here, at the point the pages mark it safe: variants
cache their rendered HTML, and rows cached before sanitising existed must not reach a page as they are.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from functools import lru_cache
from typing import Any, Iterable

from django.core.cache import cache
from django.template.loader import get_template
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

from quizbank.rendering import highlight_python, sanitise_html
from quizbank.spec import REGION_BEGIN, REGION_END

# Which control each answer format gets on the quiz page.
INPUT_FOR_FORMAT = {
    "choice": "radio",
    "numeric": "line",
    "integer": "line",
    "shape": "line",
    "text": "line",
    "manual": "essay",
    "output": "output",
    "code": "editor",
    "preparing": "none",  # a stand-in while a worker generates the variant: nothing to answer yet
}
PLACEHOLDER_FOR_FORMAT = {
    "numeric": "e.g. 0.25, 3/4 or 2.5e-3",
    "integer": "a whole number",
    "shape": "e.g. (32, 64, 8, 8)",
    "text": "",
}


def split_scaffold(scaffold: str) -> tuple[str, str]:
    """The scaffold's code before and after the student's region (the region itself is in the editor)."""
    lines = scaffold.split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == REGION_BEGIN)
        stop = next(i for i, line in enumerate(lines) if line.strip() == REGION_END)
    except StopIteration:
        return scaffold, ""
    return "\n".join(lines[:start]).rstrip("\n"), "\n".join(lines[stop + 1:]).strip("\n")


def _option_html(option: dict[str, Any]) -> str:
    if option.get("html"):
        return sanitise_html(option["html"])
    return str(escape(option.get("text", "")))


def question_context(public: dict[str, Any], *, question: Any = None, item: Any = None,
                     verdict: Any = None) -> dict[str, Any]:
    """`verdict` (a quizbank.checking.FormatVerdict of the saved text) is shown next to the field on the quiz page."""
    source = question if question is not None else item
    answer_format = public.get("answer_format", "text")
    text = source.text or ""
    context: dict[str, Any] = {
        "slot_id": source.slot_id,
        "number": source.position,
        "kind": public.get("kind", ""),
        "answer_format": answer_format,
        "input": INPUT_FOR_FORMAT.get(answer_format, "line"),
        "placeholder": PLACEHOLDER_FOR_FORMAT.get(answer_format, ""),
        "title": public.get("title", ""),
        "stem_html": sanitise_html(public.get("stem_html")),
        "program_html": sanitise_html(public.get("program_html")),
        "max_words": public.get("max_words"),
        "visible_tests": public.get("visible_tests") or [],
        "options": [
            {"index": str(index), "letter": chr(65 + index), "html": _option_html(option)}
            for index, option in enumerate(public.get("options") or [])
        ],
    }
    if public.get("kind") == "completion":
        before, after = split_scaffold(public.get("scaffold", ""))
        context["scaffold_before_html"] = highlight_python(before)
        context["scaffold_after_html"] = highlight_python(after)
        context["starter"] = public.get("starter", "")
    saved_at = getattr(question, "saved_at", None) if question is not None else None
    student = _student_fields(public, text, saved_at, verdict)
    for option in context["options"]:
        option["checked"] = student[f"checked{option['index']}"] == " checked"
        option["checked_attr"] = student[f"checked{option['index']}"]
    context.update({name: student[name] for name in STUDENT_FIELDS if name in student})
    if item is not None:
        context.update(_review_context(item, context))
    return context


# What _question.html shows that depends on the student or their answer; everything else in a question's HTML
# is the variant's public content, the same for every student who drew it. Options add checked0, checked1...
STUDENT_FIELDS = ("slot_id", "number", "text", "editor_text", "saved_at_ms", "format_valid", "format_valid_text",
                  "format_message", "format_state", "format_display")
# Bump when what a cached question fragment contains changes in a way the template's source does not show
# (question_context, sanitising): old fragments are then never read again.
QUESTION_RENDER_VERSION = 1
QUESTION_FRAGMENT_SECONDS = 7 * 24 * 3600  # pre-generation (which warms them) may run days before a class


def _student_fields(public: dict[str, Any], text: str, saved_at: Any, verdict: Any) -> dict[str, Any]:
    """The per-student values of one question (except slot_id and number), as question_context gives them."""
    valid = verdict is None or bool(verdict.valid)
    message = verdict.message if verdict is not None else ""
    if not valid:
        display = format_html("Saved — but it can't be read: {}", message)
    else:
        display = message
    fields: dict[str, Any] = {
        "text": text,
        "saved_at_ms": int(saved_at.timestamp() * 1000) if saved_at else 0,
        "format_valid": valid,
        "format_valid_text": "true" if valid else "false",
        "format_message": message,
        "format_state": "" if valid and not message else ("note" if valid else "invalid"),
        "format_display": display,
    }
    if public.get("kind") == "completion":
        fields["editor_text"] = text if text else public.get("starter", "")
    for index, _ in enumerate(public.get("options") or []):
        fields[f"checked{index}"] = " checked" if text.strip() == str(index) else ""
    return fields


@lru_cache(maxsize=1)
def _question_template_digest() -> str:
    template = get_template("exams/_question.html")
    source = getattr(getattr(template, "template", None), "source", "")
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _fragment_key(variant_id: int, public: dict[str, Any]) -> str:
    # The variant's id and a digest of its public part: an id alone could name other content after a database
    # is reset or restored beside a cache that was not.
    content = hashlib.blake2b(json.dumps(public, sort_keys=True, separators=(",", ":"), default=str).encode(),
                              digest_size=12).hexdigest()
    return f"quiz-question:{QUESTION_RENDER_VERSION}:{_question_template_digest()}:{int(variant_id)}:{content}"


def warm_question_fragments(variants: Iterable[tuple[int, dict[str, Any]]]) -> int:
    """Render and cache the quiz-page HTML of these (variant id, public) pairs not cached yet; pre-generation
    calls it in the worker, so a class's quiz pages only fill in answers. Returns how many were rendered."""
    variants = list(variants)
    keyed = [(_fragment_key(variant_id, public), public) for variant_id, public in variants]
    present = cache.get_many([key for key, _ in keyed]) if keyed else {}
    fresh = {key: _render_fragment(public) for key, public in keyed if key not in present}
    if fresh:
        cache.set_many(fresh, QUESTION_FRAGMENT_SECONDS)
    return len(fresh)


def _render_fragment(public: dict[str, Any]) -> tuple[str, str]:
    """The question's HTML with a marker in place of every student field: (the markers' nonce, html). Only the
    variant's public part goes in; the nonce is made per render, so no public content can forge a marker."""
    nonce = secrets.token_hex(8)

    def marker(name: str) -> SafeString:
        return mark_safe(f"\ue000{nonce}:{name}\ue001")

    context = question_context(public, question=_Blank())
    for name in STUDENT_FIELDS:
        if name in context:
            context[name] = marker(name)
    for option in context["options"]:
        option["checked_attr"] = marker(f"checked{option['index']}")
    return nonce, get_template("exams/_question.html").render({"q": context})


class _Blank:
    slot_id = 0
    position = 0
    text = ""
    saved_at = None


# One pattern for every fragment (a pattern per nonce would be compiled anew for each question: more distinct
# patterns than re's cache holds); a marker whose nonce is not the fragment's is left as the text it is.
_MARKER = re.compile("\ue000([0-9a-f]{16}):(\\w+)\ue001")


def quiz_questions_html(questions: Iterable[Any]) -> list[SafeString]:
    """Each question of the quiz page as _question.html renders it, from a per-variant fragment in Django's
    cache (rendered once for the class) with this student's fields filled in, escaped, in one pass."""
    questions = list(questions)
    keys = [None if question.variant_id is None else _fragment_key(question.variant_id, question.public)
            for question in questions]
    cached = cache.get_many([key for key in keys if key]) if any(keys) else {}
    missing: dict[str, tuple[str, str]] = {}
    pages = []
    for question, key in zip(questions, keys):
        fragment = cached.get(key) or missing.get(key) if key else None
        if fragment is None:
            fragment = _render_fragment(question.public)
            if key:  # a stand-in for a broken variant (no id) is never cached
                missing[key] = fragment
        nonce, html = fragment
        values = {name: str(conditional_escape(value)) for name, value in
                  _student_fields(question.public, question.text or "", question.saved_at, question.verdict).items()}
        values["slot_id"] = str(int(question.slot_id))
        values["number"] = str(int(question.position))
        pages.append(mark_safe(_MARKER.sub(lambda match, nonce=nonce, values=values: values[match.group(2)]
                                           if match.group(1) == nonce else match.group(0), html)))
    if missing:
        cache.set_many(missing, QUESTION_FRAGMENT_SECONDS)
    return pages


def _review_context(item: Any, context: dict[str, Any]) -> dict[str, Any]:
    score = item.score
    if item.grading_state in ("queued", "grading", "manual", "error"):
        verdict = "pending"
    elif score is None:
        verdict = ""
    elif score >= 0.999:
        verdict = "correct"
    elif score <= 0.001:
        verdict = "incorrect"
    else:
        verdict = "partial"
    chosen = next((option for option in context["options"] if option["checked"]), None)
    return {
        "score": score,
        "score_percent": None if score is None else round(score * 100, 1),
        "verdict": verdict,
        "valid": item.valid,
        "feedback": item.feedback,
        "feedback_data": item.feedback_data or {},
        "grading_state": item.grading_state,
        "correct_answer": item.correct_answer,
        "explanation_html": sanitise_html(item.explanation_html),
        "model_answer_html": sanitise_html(getattr(item, "model_answer_html", None)),
        "chosen_option": chosen,
    }


def gradebook_table(book: Any) -> dict[str, Any]:
    """The gradebook as rows of cells in column order (templates cannot index dicts by a variable key)."""
    rows = []
    for row in book.rows:
        rows.append({
            "student": row,
            "cells": [(column, row.cells.get(column.key)) for column in book.columns],
            "categories": [row.category_averages.get(category.name) for category in book.categories],
            "dropped_titles": [column.title for column in book.columns if column.key in row.dropped]
                              or [column.title for column in book.columns
                                  if row.cells.get(column.key) is not None and row.cells[column.key].dropped],
            "weighted_total": row.weighted_total,
            "category_cells": [(row.category_averages.get(category.name),
                                category_note(row.category_progress.get(category.name))) for category in book.categories],
        })
    return {"columns": book.columns, "categories": book.categories, "rows": rows,
            "legend": [(category, _class_note(book, category)) for category in book.categories]}


def _class_note(book: Any, category: Any) -> str:
    """The legend's note for a category: the most common progress over the class (overrides make it differ)."""
    notes = [category_note(row.category_progress.get(category.name)) for row in book.rows]
    return max(set(notes), key=notes.count) if notes else ""


STATUS_LABELS = {
    "graded": "Graded",
    "pending": "Being graded: not counted yet",
    "missing": "Missing: counts 0",
    "excused": "Excused: not counted",
    "not_open": "Not open yet",
    "open": "Open: not counted yet",
    "in_progress": "In progress: not counted yet",
    "unreleased": "Submitted: results not released yet",
    "not_entered": "Not entered yet",
}


def category_note(progress: Any) -> str:
    """ "best 8 of 9: 5 final so far" for a category with drop-lowest; "5 of 9 final so far" otherwise."""
    if progress is None or not progress.total:
        return ""
    if progress.drop_lowest:
        note = f"best {progress.keep} of {progress.total}: {progress.final} final so far"
        if progress.dropping:
            note += f", lowest {progress.dropping} dropped" if progress.dropping > 1 else ", lowest dropped"
        return note
    return f"{progress.final} of {progress.total} final so far"


def student_grades_table(book: Any) -> dict[str, Any]:
    """A student's own gradebook row (exams.gradebook.student_gradebook) as lines a template lists."""
    row = book.rows[0]
    lines = []
    for column in book.columns:
        cell = row.cells[column.key]
        lines.append({"column": column, "cell": cell, "label": STATUS_LABELS.get(cell.status, cell.status),
                      "shown_percent": cell.percent if cell.percent is not None else cell.provisional_percent})
    categories = [{"category": category, "average": row.category_averages.get(category.name),
                   "note": category_note(row.category_progress.get(category.name))} for category in book.categories]
    return {"lines": lines, "categories": categories, "total": row.weighted_total, "row": row}
