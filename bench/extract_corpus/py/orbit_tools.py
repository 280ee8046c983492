"""Orbit propagation helpers for the ADCS simulator.

TODO: this docstring line is documentation, not a task.
FIXME and HACK in a docstring are not tasks either.
"""

from __future__ import annotations

import math

# The todo list for this module lives in the tracker (REQ-101); this is prose, not a task.
# TODOS are tracked elsewhere, and so is every FIXMEs list.
MU_EARTH = 398600.4418  # km^3/s^2
FIXME_COUNT = 3
todo_items: list[str] = []


def kepler_e(m: float, e: float, tol: float = 1e-12) -> float:
    """Solve Kepler's equation M = E - e sin E by Newton iteration.

    XXX: docstring again, must stay silent.
    """
    # TODO: switch to a Halley step for e > 0.9
    big_e = m if e < 0.8 else math.pi
    for _ in range(50):
        f = big_e - e * math.sin(big_e) - m
        big_e -= f / (1 - e * math.cos(big_e))
        if abs(f) < tol:
            break
    return big_e


def period(a_km: float) -> float:
    # FIXME(bob): a_km <= 0 should raise, not return nan
    return 2 * math.pi * math.sqrt(a_km**3 / MU_EARTH)


def describe(name: str, a_km: float) -> str:
    label = f"TODO: {name} has no epoch"  # the f-string is data, not a task
    note = "# FIXME not a comment, just a string"
    raw = r"""
# HACK inside a raw triple-quoted string
TODO: still inside the string
"""
    return f"{label} {note} {raw} {period(a_km):.1f}s"


def handle_todo(items: list[str]) -> int:
    x = len(items)  # XXX trailing: counts duplicates twice
    # The integrator is unstable for e > 0.99 because the series diverges.
    # TODO(alice, 2026-12-01, #42): use universal variables near e = 1
    # see the TODO above; a later mention is not a new task
    # todo: lowercase is not a marker
    return x + len(todo_items) + FIXME_COUNT
