"""Validation at the door: every public store method checks its arguments here."""
from __future__ import annotations

import re

_SHA256 = re.compile(r"[0-9a-f]{64}")


def text(name: str, value, max_len: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_len:
        raise ValueError(f"{name} is {len(value)} characters long; the limit is {max_len}")
    if any(ord(c) < 32 for c in value):
        raise ValueError(f"{name} must not contain control characters")
    return value


def blob(name: str, value) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{name} must be bytes, got {type(value).__name__}")
    value = bytes(value)
    if not value:
        raise ValueError(f"{name} is empty")
    return value


def integer(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def version(name: str, value) -> int:
    return integer(name, value, 1, 2**31 - 1)


def row_id(name: str, value) -> int:
    return integer(name, value, 1, 2**63 - 1)


def choice(name: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def sha256_hex(name: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(f"{name} must be 64 lower-case hex digits (a SHA-256), got {value!r}")
    return value
