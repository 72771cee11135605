"""The one source of "now" for the exams app, so tests (and the class simulation) can freeze and move time.

Deadlines are enforced against this clock; calling `timezone.now()` directly elsewhere in exams is a bug.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

_frozen_at: datetime | None = None


def now() -> datetime:
    return _frozen_at if _frozen_at is not None else timezone.now()


def freeze(at: datetime) -> None:
    global _frozen_at
    if timezone.is_naive(at):
        raise ValueError("freeze() needs an aware datetime")
    _frozen_at = at


def advance(**delta: float) -> datetime:
    """Move a frozen clock forward, e.g. advance(minutes=29, seconds=50)."""
    if _frozen_at is None:
        raise RuntimeError("advance() needs a frozen clock")
    freeze(_frozen_at + timedelta(**delta))
    return now()


def unfreeze() -> None:
    global _frozen_at
    _frozen_at = None


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    previous = _frozen_at
    freeze(at)
    try:
        yield
    finally:
        if previous is None:
            unfreeze()
        else:
            freeze(previous)
