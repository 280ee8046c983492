"""Terminal escape sequences, which a pipeline run's output is full of (colours, cursor moves,
window titles). The coordinator strips them before it parses failures or asks for a summary,
the kernel magics before they print a run's output: both import this pure `re` module.
"""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
