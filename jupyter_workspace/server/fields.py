"""Validation of request fields: every value that enters the store passes through here."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_title_chars: int = 200


def reject_unknown(data: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown field(s) for a {what}: {', '.join(map(str, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def text(value: Any, name: str, *, max_chars: int | None = None, strip: bool = False) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string, not {_type_name(value)}")
    if strip:
        value = value.strip()
    if "\x00" in value:
        raise BadRequest(f"'{name}' must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"'{name}' is not valid Unicode (lone surrogate)") from None
    if max_chars is not None and len(value) > max_chars:
        raise BadRequest(f"'{name}' is too long: {len(value)} characters, at most {max_chars}")
    return value


def title(value: Any, limits: Limits, name: str = "title") -> str:
    value = text(value, name, max_chars=limits.max_title_chars, strip=True)
    if "\n" in value or "\r" in value:
        raise BadRequest(f"'{name}' must be a single line")
    if not value:
        raise BadRequest(f"'{name}' must not be empty")
    return value


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false, not {_type_name(value)}")
    return value


def integer(value: Any, name: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer, not {_type_name(value)}")
    if not minimum <= value <= maximum:
        raise BadRequest(f"'{name}' must be between {minimum} and {maximum}")
    return value


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise BadRequest(f"'{name}' must be one of {', '.join(options)}")
    return value


def iso_date(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise BadRequest(f"'{name}' must be a date as YYYY-MM-DD or null")
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadRequest(f"'{name}' is not a real date: {value}") from None


def record_id(raw: str, what: str) -> int:
    """Parse an id from a URL; anything that is not a stored id is 'unknown' (404)."""
    from .errors import NotFound

    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID or int(raw) < 1:
        raise NotFound(f"unknown {what} id: {raw[:40]}")
    return int(raw)


def now() -> str:
    """UTC timestamp with milliseconds, as the API returns them."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
