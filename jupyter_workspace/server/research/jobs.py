"""`ResearchManager`: the durable queue of research jobs (being written, issue 16)."""

from __future__ import annotations


class ResearchManager:
    pass
