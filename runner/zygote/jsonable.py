"""Conversion of exported values to plain JSON data (runs inside the sandboxed job process).

Only plain data crosses the boundary. NaN and infinities survive because both ends speak Python's
``allow_nan`` JSON dialect; everything the caller cannot rebuild from JSON is refused with a clear message.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64


class NotConvertible(TypeError):
    """An exported value has no faithful JSON form."""


def clean_text(text: str) -> str:
    """Make text storable anywhere (PostgreSQL text and jsonb refuse NUL and lone surrogates)."""
    if text.isascii() and "\x00" not in text:
        return text
    cleaned = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return cleaned.replace("\x00", "\ufffd")


def to_jsonable(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise NotConvertible(f"nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _checked_int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return clean_text(str(value))
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {_key(key): to_jsonable(item, depth + 1) for key, item in value.items()}
    converted = _array_like(value)
    if converted is not _MISSING:
        return to_jsonable(converted, depth + 1)
    raise NotConvertible(
        f"a value of type {type(value).__module__}.{type(value).__qualname__} has no JSON form"
    )


_MISSING = object()


def _checked_int(value: int) -> int:
    # Python refuses to print ints beyond ~4300 digits; refuse them here with a message instead.
    if value.bit_length() > 4000:
        raise NotConvertible(f"an integer with {value.bit_length()} bits is too large to export")
    return int(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return clean_text(str(key))
    if isinstance(key, (bool, int, float)) or key is None:
        return str(key)
    converted = _array_like(key)
    if converted is not _MISSING and isinstance(converted, (bool, int, float)):
        return str(converted)
    raise NotConvertible(f"a dict key of type {type(key).__qualname__} has no JSON form")


def _array_like(value: Any) -> Any:
    """numpy / torch scalars and arrays become Python numbers and nested lists."""
    module = type(value).__module__ or ""
    if module.startswith("torch"):
        import torch

        if isinstance(value, torch.Tensor):
            if value.is_complex():
                raise NotConvertible("complex tensors have no JSON form")
            return value.detach().cpu().tolist()
        if isinstance(value, torch.Size):
            return list(value)
        if isinstance(value, torch.dtype):
            return str(value)
        return _MISSING
    if module.startswith("numpy"):
        import numpy

        if isinstance(value, (numpy.ndarray, numpy.generic)):
            if numpy.iscomplexobj(value):
                raise NotConvertible("complex numpy values have no JSON form")
            if value.dtype.kind not in "biuf":
                raise NotConvertible(f"numpy dtype {value.dtype} has no JSON form")
            return value.tolist()
        return _MISSING
    return _MISSING
