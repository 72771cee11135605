"""CSV exports, streamed row by row so a class of 1,000 exports without building the file in memory.

UTF-8 with a byte-order mark so Excel detects the encoding (LibreOffice ignores it); times in the course's
time zone. Wire a view as StreamingHttpResponse(gradebook_csv(course), content_type="text/csv; charset=utf-8").
"""
from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from exams.gradebook import EXCUSED, Gradebook, gradebook
from exams.models import Assessment, Course, Response
from quizbank.models import Variant

BOM = "\ufeff"
CHUNK = 500
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class _Line:
    """A file-like object csv.writer writes one row into; we hand the row on instead of storing it."""

    def write(self, value: str) -> str:
        return value


FORMULA_STARTS = frozenset("=+-@")
# Where a spreadsheet may start a new cell or line inside our one cell: other locales' separators (a `;` list
# separator, a tab-separated import), line breaks of every kind, and URL-encoded line breaks some tools decode.
_SEPARATOR = re.compile(r"[;,\t\r\n\v\f\x1c-\x1e\x85\u2028\u2029]|%0[9aAdD]")
_DDE = re.compile(r"[\w.]+\s*\|.*!", re.DOTALL)
_TEXT_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")


def _is_blank(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in _TEXT_CATEGORIES


def _starts_formula(segment: str) -> bool:
    """Whether a spreadsheet would read `segment` as a formula: its first visible character, after NFKC folds
    full-width and small forms (＝ ＋ － ＠ ﹦) into ASCII, is = + - @, and it is not a plain ASCII number."""
    visible = unicodedata.normalize("NFKC", segment)
    while visible and _is_blank(visible[0]):
        visible = visible[1:]
    return bool(visible) and visible[0] in FORMULA_STARTS and not _NUMBER.fullmatch(segment.strip())


def safe_cell(value: Any) -> Any:
    """A cell no spreadsheet evaluates (OWASP CSV injection): text that could start a formula gets a leading '.

    Numbers we write (int, float, Decimal, and strings that are plain numbers such as "-3.5") stay numbers, so
    an LMS import still reads scores. Text from people (names, emails, ids, titles, answers, feedback) is
    neutralised when its start, or the start of any piece after a separator another locale or importer would
    split on (`x;=1+1`), could be a formula; so is any leading control character and any DDE payload."""
    if not isinstance(value, str) or not value or _NUMBER.fullmatch(value):
        return value
    pieces = _SEPARATOR.split(value)
    separators = _SEPARATOR.findall(value)
    out = ["'" + pieces[0] if (_starts_formula(pieces[0]) or not value[0].isprintable() or value[0] in "\t\r\n"
                               or _DDE.search(value)) else pieces[0]]
    for separator, piece in zip(separators, pieces[1:]):
        out.append(separator + ("'" + piece if _starts_formula(piece) else piece))
    return "".join(out)


def rows_to_csv(rows: Iterable[list[Any]], delimiter: str = ",", *, quote_all: bool = False) -> Iterator[str]:
    """Rows as CSV lines (a byte-order mark first, CRLF line ends), every cell through safe_cell."""
    writer = csv.writer(_Line(), delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    first = True
    for row in rows:
        line = writer.writerow([safe_cell(cell) for cell in row])
        if first:
            line, first = BOM + line, False
        yield line


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _minutes(value: float) -> str:
    return str(math.ceil(value)) if value else ""  # rounded up, as the late tiers count


def gradebook_rows(book: Gradebook) -> Iterator[list[Any]]:
    """Each assessment's percent is followed by its late minutes and late penalty (empty when on time); a
    cell that is not final yet (open, in progress, waiting for grading) is empty, never 0."""
    header = ["Student ID", "Name", "Email"]
    for column in book.columns:
        header.append(column.title)
        if column.kind != "manual":
            header += [f"{column.title} late (min)", f"{column.title} late penalty (%)"]
    header += ["Dropped quiz", "Quiz average"]
    header += [f"{category.name} ({category.weight.normalize():f}%)" for category in book.categories]
    header += ["Weighted total"]
    yield header
    quiz_category = book.quiz_category
    quiz_titles = {c.title for c in book.columns if quiz_category is not None and c.category == quiz_category}
    for row in book.rows:
        cells = []
        for column in book.columns:
            cell = row.cells[column.key]
            cells.append("excused" if cell.status == EXCUSED else _percent(cell.percent))
            if column.kind != "manual":
                cells += [_minutes(cell.late_minutes),
                          f"{cell.late_penalty_percent:g}" if cell.late_penalty_percent else ""]
        dropped = "; ".join(title for title in row.dropped if title in quiz_titles)
        quiz_average = row.category_averages.get(quiz_category.name) if quiz_category else None
        yield ([row.student_id, row.name, row.email] + cells + [dropped, _percent(quiz_average)]
               + [_percent(row.category_averages.get(c.name)) for c in book.categories]
               + [_percent(row.weighted_total)])


def gradebook_csv(course: Course, now: datetime | None = None) -> Iterator[str]:
    return rows_to_csv(gradebook_rows(gradebook(course, now)))


def gradebook_csv_filename(course: Course) -> str:
    return f"{slugify(course.code)}-gradebook.csv"


RESPONSE_HEADER = ["Student ID", "Name", "Email", "Attempt", "Submitted at", "Question", "Template", "Version",
                   "Graded with version", "Seed", "Response", "Correct answer", "Score (%)", "Grading state",
                   "Valid", "Feedback", "Graded at", "Graded by"]


def _correct_answer(variant: Variant | None) -> str:
    if variant is None:
        return ""
    from exams.grading import _correct_answer_text

    return _correct_answer_text(variant.public, variant.key) or ""


def response_rows(assessment: Assessment) -> Iterator[list[Any]]:
    yield RESPONSE_HEADER
    student_ids = dict(assessment.course.memberships.values_list("user_id", "student_id"))
    base = (Response.objects.filter(attempt__assessment=assessment)
            .select_related("attempt__student", "slot__template", "slot__template_version", "graded_version",
                            "graded_by").order_by("pk"))
    last_pk = 0
    while True:
        chunk = list(base.filter(pk__gt=last_pk)[:CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1].pk
        version_ids = {r.slot.template_version_id for r in chunk} | {r.graded_version_id for r in chunk if r.graded_version_id}
        seeds = {r.slot.seed for r in chunk}
        variants = {(v.version_id, v.seed): v for v in Variant.objects.filter(version_id__in=version_ids, seed__in=seeds)}
        for response in chunk:
            attempt, slot = response.attempt, response.slot
            student = attempt.student
            key_version = response.graded_version_id or slot.template_version_id
            yield [
                student_ids.get(student.pk, ""), student.get_full_name() or student.username, student.email,
                attempt.number, _when(attempt.submitted_at), slot.position, slot.template.slug,
                slot.template_version.number, response.graded_version.number if response.graded_version else "",
                slot.seed, response.text, _correct_answer(variants.get((key_version, slot.seed))),
                _percent(response.score * 100 if response.score is not None else None),
                response.grading_state or "not submitted", "yes" if response.valid else "no", response.feedback,
                _when(response.graded_at), response.graded_by.username if response.graded_by else "",
            ]


def responses_csv(assessment: Assessment) -> Iterator[str]:
    return rows_to_csv(response_rows(assessment))


def responses_csv_filename(assessment: Assessment) -> str:
    return f"{slugify(assessment.course.code)}-{slugify(assessment.title)}-responses.csv"
