"""Row ids from forms and query strings: anything that is not one (text, a sign, a number past PostgreSQL's
bigint) is treated as absent, so a hand-edited form gets its ordinary answer instead of a database error."""
from __future__ import annotations

from collections.abc import Iterable

_BIGINT_DIGITS = 18


def id_from(value: str | None) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= _BIGINT_DIGITS else None


def ids_from(values: Iterable[str]) -> list[int]:
    return [number for number in (id_from(value) for value in values) if number is not None]
