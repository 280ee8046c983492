"""The id patterns entity mentions are found by (`REQ-12`, `JIRA-345`), configured once.

The coordinator checks a user's `entity_patterns` at start (a bad one is reported, not sent) and
passes the good ones to the sidecar, which finds the mentions while indexing. Pure `re`: both
processes import it.
"""

from __future__ import annotations

import re

# `id` leaves out the names of encodings and standards (`UTF-8`, `SHA-256`, `ISO-8601`)
DEFAULT_PATTERNS = {
    "requirement": r"\bREQ-\d+\b",
    "id": r"\b(?!(?:UTF|UCS|ISO|SHA|AES|CRC|PEP|RFC|IEEE|ANSI|HMAC)-\d)[A-Z]{2,}-\d+\b",
}


def compile_patterns(patterns: dict[str, str]) -> tuple[dict[str, re.Pattern[str]], list[str]]:
    """Compile the id patterns; a bad one is left out with a message saying why."""
    compiled: dict[str, re.Pattern[str]] = {}
    errors: list[str] = []
    for kind, pattern in patterns.items():
        if not isinstance(kind, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", kind):
            errors.append(
                f"entity pattern name {kind!r}: use 1-32 lowercase letters, digits, '-' or '_'"
            )
            continue
        if not isinstance(pattern, str) or not pattern or len(pattern) > 500:
            errors.append(
                f"entity pattern {kind!r}: must be a non-empty string of at most 500 characters"
            )
            continue
        try:
            compiled[kind] = re.compile(pattern)
        except re.error as e:
            errors.append(f"entity pattern {kind!r} is not a valid regular expression: {e}")
    return compiled, errors
