"""Values from forms and query strings. Row ids: anything that is not one (text, a sign, a number past
PostgreSQL's bigint) is treated as absent, so a hand-edited form gets its ordinary answer instead of a database
error. Points: a number in a sane range, or a ValueError whose message the grader sees."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_BIGINT_DIGITS = 18


def id_from(value: str | None) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= _BIGINT_DIGITS else None


def ids_from(values: Iterable[str]) -> list[int]:
    return [number for number in (id_from(value) for value in values) if number is not None]


def points_from(value: Any, default: float = 0.0) -> float:
    text = str(value or "").strip()
    if not text:
        return default
    if not text.isascii():
        raise ValueError("Write points with the digits 0-9.")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of points.") from None
    if number != number or abs(number) > 1000:
        raise ValueError("Points must be a number between -1000 and 1000.")
    return number
