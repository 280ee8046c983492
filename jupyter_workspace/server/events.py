"""The event bus: typed events fanned out to every connected WebSocket client.

Publishers call `publish` on the event loop; the event is serialised once and written to each
subscriber. Subscribers are callables taking the JSON text (WebSocket handlers) so a slow or
closed client never blocks the others.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from collections.abc import Callable
from typing import Any

Subscriber = Callable[[str], None]

# Bytes an events socket may fall behind before it is closed. A note event carries the note
# (up to 1 MiB of body, a few MB once JSON-escaped), so a healthy client never comes near it;
# a client that stopped reading would otherwise keep every event in server memory.
MAX_SOCKET_BACKLOG = 16 * 1024 * 1024

log = logging.getLogger(__name__)


def socket_backlog(handler: Any) -> int:
    """Bytes written to a tornado WebSocket handler but not yet taken by the kernel."""
    stream = getattr(getattr(handler, "ws_connection", None), "stream", None)
    # tornado has no public name for it; the terminal sockets read the same counters
    return getattr(stream, "_total_write_index", 0) - getattr(stream, "_total_write_done_index", 0)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        # The browser tabs (their X-Workspace-Client ids) with an open event socket.
        self._live: collections.Counter[str] = collections.Counter()

    def client_opened(self, client: str) -> None:
        if client:
            self._live[client] += 1

    def client_closed(self, client: str) -> None:
        if self._live.get(client, 0) > 1:
            self._live[client] -= 1
        else:
            self._live.pop(client, None)

    def is_live(self, client: str) -> bool:
        """Whether the tab that sent `client` is open now (its event socket is connected)."""
        return bool(client) and client in self._live

    @property
    def client_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def queue(self) -> asyncio.Queue[dict[str, Any]]:
        """An in-process subscription (for server-side consumers such as the indexer)."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self._queues.add(q)
        return q

    def drop_queue(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues.discard(q)

    def publish(self, event: dict[str, Any]) -> None:
        message = json.dumps(event)
        for subscriber in list(self._subscribers):
            try:
                subscriber(message)
            except Exception:  # a broken client must not stop the fan-out
                log.debug("dropping a failed event subscriber", exc_info=True)
                self._subscribers.discard(subscriber)
        for q in list(self._queues):
            try:
                q.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("event queue full; dropping %s", event.get("type"))
