"""Every table of an analysis page as CSV rows (written through exams.exports.rows_to_csv, so no cell is
ever a formula). Numbers are rounded to 2 decimals; an empty cell is a statistic that is undefined."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ITEM_COLUMNS = [("label", "item"), ("n", "students"), ("facility", "facility %"), ("sd", "SD %"),
                ("random_guess", "random guess %"), ("intended_weight", "intended weight %"),
                ("effective_weight", "effective weight %"), ("discrimination_index", "discrimination index"),
                ("discriminative_efficiency", "discriminative efficiency %")]
TEST_COLUMNS = [("n", "students"), ("items", "questions"), ("mean", "mean %"), ("median", "median %"),
                ("sd", "SD %"), ("skewness", "skewness"), ("kurtosis", "excess kurtosis"),
                ("cronbach_alpha", "Cronbach's alpha %"), ("error_ratio", "error ratio %"),
                ("standard_error", "standard error %")]


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 2)
    return value


def _item_row(row: dict[str, Any], kind: str, templates: str) -> list[Any]:
    return [kind, templates] + [cell(row.get(key)) for key, _ in ITEM_COLUMNS] + ["; ".join(row.get("flags") or [])]


def assessment_tables(data: dict[str, Any]) -> dict[str, tuple[str, Iterator[list[Any]]]]:
    """{table name: (title, rows)} for an assessment analysis."""
    return {
        "test": ("Test statistics", _test_rows(data)),
        "items": ("Item statistics", _assessment_item_rows(data)),
        "misconceptions": ("Misconceptions", _misconception_rows(data.get("misconceptions") or [])),
        "completion": ("Code completion outcome patterns", _completion_rows(data.get("completion") or [])),
        "variants": ("Facility by parameter", _variant_rows(
            [(item["label"], group) for item in data.get("items") or [] for group in item.get("variant_groups") or []])),
    }


def template_tables(data: dict[str, Any]) -> dict[str, tuple[str, Iterator[list[Any]]]]:
    return {
        "items": ("Item statistics", _template_item_rows(data)),
        "misconceptions": ("Misconceptions", _misconception_rows([data["misconceptions"]] if data.get("misconceptions") else [])),
        "completion": ("Code completion outcome patterns", _completion_rows([data["completion"]] if data.get("completion") else [])),
        "variants": ("Facility by parameter", _variant_rows([(data["slug"], g) for g in data.get("variant_groups") or []])),
    }


def _test_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    yield [title for _, title in TEST_COLUMNS]
    yield [cell(data["test"].get(key)) for key, _ in TEST_COLUMNS]


def _item_header() -> list[str]:
    return ["row", "templates"] + [title for _, title in ITEM_COLUMNS] + ["flags"]


def _assessment_item_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    yield _item_header()
    for item in data.get("items") or []:
        slugs = " ".join(t["slug"] for t in item.get("templates") or [])
        yield _item_row(item, "question", slugs)
        for sub in item.get("subrows") or []:
            yield _item_row(sub, f"{item['label']} version", sub["label"].split(" ")[0])


def _template_item_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    yield _item_header()
    yield _item_row(data["item"], "template", data["slug"])
    for sub in data.get("versions") or []:
        yield _item_row(sub, "version", data["slug"])
    for sub in data.get("assessments") or []:
        yield _item_row(sub, "assessment", data["slug"])


def _misconception_rows(tables: list[dict[str, Any]]) -> Iterator[list[Any]]:
    yield ["template", "kind", "students", "misconception", "students who showed it", "share %",
           "students whose variant had it"]
    for table in tables:
        for row in table["rows"]:
            yield [table["slug"], table["kind"], table["n"], row["name"], row["count"], cell(row["share"]), row["offered"]]
        for label, key in (("(right answer)", "correct"), ("(hand-written distractor)", "fixed"),
                           ("(wrong, no named misconception)", "unexplained"), ("(no answer)", "blank")):
            if table.get(key):
                yield [table["slug"], table["kind"], table["n"], label, table[key],
                       cell(100.0 * table[key] / table["n"] if table["n"] else 0.0), ""]


def _completion_rows(tables: list[dict[str, Any]]) -> Iterator[list[Any]]:
    yield ["template", "students", "visible tests failed", "hidden tests passed", "hidden tests", "students",
           "share %", "known mistake"]
    for table in tables:
        for row in table["patterns"]:
            yield [table["slug"], table["n"], " ".join(row["visible_failed"]), row["hidden_passed"],
                   row["hidden_total"], row["count"], cell(row["share"]), row["mistake"]]


def _variant_rows(groups: list[tuple[str, dict[str, Any]]]) -> Iterator[list[Any]]:
    yield ["item", "parameter", "group", "students", "facility %", "spread (points)"]
    for label, entry in groups:
        for group in entry["groups"]:
            yield [label, entry["parameter"], group["label"], group["n"], cell(group["facility"]), cell(entry["spread"])]
