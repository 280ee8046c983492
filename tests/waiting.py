"""Waiting for a condition in a test: poll it, with a bound for a hung test (not a timing claim)."""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def until(predicate, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll `predicate()` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
