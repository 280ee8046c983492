"""Validation of request fields: every value that enters the store passes through here."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, NotFound

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ASCII only: str.isdigit() and \d also accept '²', '٣' or '１', which int() refuses or reads
_DIGITS = re.compile(r"[0-9]{1,20}")
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
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        raise NotFound(f"unknown {what} id: {raw[:40]}")
    return int(raw)


def whole_number(
    raw: str | None, name: str, *, default: int, minimum: int = 0, maximum: int = MAX_ID
) -> int:
    """A whole number from a URL query parameter, `default` when it is absent."""
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise BadRequest(f"'{name}' must be a whole number from {minimum} to {maximum}")
    return int(raw)


def json_object(body: bytes | bytearray) -> dict[str, Any]:
    """A request body as a JSON object, or a BadRequest saying what is wrong with it."""
    if not body.strip():
        raise BadRequest("request body must be a JSON object")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("request body is not valid UTF-8") from None
    except RecursionError:  # the decoder recurses per level: '[' * 100000 exhausts the stack
        raise BadRequest("request body is nested too deeply") from None
    except ValueError as e:
        raise BadRequest(f"request body is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data


def now() -> str:
    """UTC timestamp with milliseconds, as the API returns them."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
