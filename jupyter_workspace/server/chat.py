"""Chat: conversations in SQLite, answers streamed from the LLM and relayed as events.

Flow: persist the user's message → ask the LLM through the assistant (assistant.py, which owns
the prompt and the sidecar's stream) → publish each piece as a `chat.token` event → persist the
answer when the stream ends: `complete`, `partial` (stopped) or `error` (with whatever text had
arrived). Every stream ends with exactly one `chat.done` or `chat.error` event, whatever happens
to the sidecar.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import sqlite3
from typing import Any

from .. import protocol
from . import fields, grounding
from .assistant import AnswerCut, Assistant, LLMConfig, ModelFailed, is_http_url
from .errors import BadRequest, Conflict, NotFound
from .events import EventBus
from .search import SearchManager
from .sidecar_client import SidecarGone
from .store import Store
from .tasking import cancel_and_wait

MAX_MESSAGE_CHARS = 100_000
# provider failures after which the retrieved passages are given as the answer
RETRIEVAL_ONLY_KINDS = ("unreachable", "auth", "not_found", "timeout", "rate_limit")
_MODEL = re.compile(r"[A-Za-z0-9_.:/@+\-]{1,200}")


def _message(row: sqlite3.Row) -> dict[str, Any]:
    message = {
        key: row[key]
        for key in (
            "id",
            "conversation_id",
            "role",
            "content",
            "status",
            "error",
            "error_kind",
            "model",
            "created",
            "mode",
        )
    }
    message["sources"] = json.loads(row["sources"]) if row["sources"] else []
    return message


class ChatManager:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        assistant: Assistant,
        limits: fields.Limits,
        search: SearchManager | None = None,
    ) -> None:
        self.search = search  # None: answers are not grounded in the workspace
        self.store = store
        self.bus = bus
        self.assistant = assistant
        self.limits = limits
        self._streams: dict[str, tuple[int, asyncio.Task[None]]] = {}

    @property
    def config(self) -> LLMConfig:
        """The LLM configuration chat answers with: the assistant's, one for every tool."""
        return self.assistant.config

    @config.setter
    def config(self, config: LLMConfig) -> None:
        self.assistant.config = config

    # -- conversations -------------------------------------------------------------------------
    def _conversation(self, row: sqlite3.Row) -> dict[str, Any]:
        streaming = next((sid for sid, (cid, _) in self._streams.items() if cid == row["id"]), None)
        return {
            "id": row["id"],
            "title": row["title"],
            "created": row["created"],
            "updated": row["updated"],
            "streaming": streaming,
        }

    async def conversations(self) -> list[dict[str, Any]]:
        rows = await self.store.run(
            lambda conn: conn.execute(
                "SELECT * FROM conversations ORDER BY updated DESC, id DESC"
            ).fetchall()
        )
        return [self._conversation(row) for row in rows]

    async def conversation(self, conversation_id: int) -> dict[str, Any]:
        def read(conn: sqlite3.Connection) -> tuple[sqlite3.Row, list[sqlite3.Row]]:
            row = _load_conversation(conn, conversation_id)
            messages = conn.execute(
                "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
            return row, messages

        row, messages = await self.store.run(read)
        return {**self._conversation(row), "messages": [_message(m) for m in messages]}

    async def rename(self, conversation_id: int, data: dict[str, Any]) -> dict[str, Any]:
        fields.reject_unknown(data, {"title"}, "conversation")
        title = fields.title(data.get("title"), self.limits)

        def write(conn: sqlite3.Connection) -> sqlite3.Row:
            _load_conversation(conn, conversation_id)
            conn.execute(
                "UPDATE conversations SET title = ?, updated = ? WHERE id = ?",
                (title, fields.now(), conversation_id),
            )
            return _load_conversation(conn, conversation_id)

        conversation = self._conversation(await self.store.run(write))
        self.bus.publish({"type": protocol.CONVERSATION_UPDATED, "conversation": conversation})
        return conversation

    async def delete(self, conversation_id: int) -> None:
        for stream_id, (cid, _) in list(self._streams.items()):
            if cid == conversation_id:
                await self.cancel(stream_id)

        def remove(conn: sqlite3.Connection) -> None:
            if (
                conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount
                == 0
            ):
                raise NotFound(f"unknown conversation id: {conversation_id}")

        await self.store.run(remove)
        self.bus.publish({"type": protocol.CONVERSATION_DELETED, "id": conversation_id})

    # -- asking --------------------------------------------------------------------------------
    def _overrides(self, data: dict[str, Any]) -> tuple[str | None, str | None]:
        model = data.get("model")
        # no address in the model's name either: some providers take one from it
        if model is not None and (
            not isinstance(model, str) or not _MODEL.fullmatch(model) or "://" in model
        ):
            raise BadRequest(
                "'model' must be a litellm model name such as "
                "'ollama_chat/llama3.2' or 'openai/gpt-4o-mini'"
            )
        api_base = data.get("api_base")
        if api_base is not None:
            api_base = fields.text(api_base, "api_base", max_chars=500, strip=True)
            if api_base and not is_http_url(api_base):
                raise BadRequest("'api_base' must be an http(s) URL, e.g. http://127.0.0.1:11434")
            # empty: the configured server, as when it is not sent
            api_base = self.config.configured_base(api_base) if api_base else None
        return model or None, api_base

    async def send(self, data: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
        fields.reject_unknown(
            data, {"message", "conversation_id", "model", "api_base", "retry"}, "chat request"
        )
        retry = fields.boolean(data.get("retry", False), "retry")
        conversation_id = data.get("conversation_id")
        if conversation_id is not None:
            conversation_id = fields.integer(conversation_id, "conversation_id", minimum=1)
        if retry:
            if conversation_id is None:
                raise BadRequest("'retry' needs the 'conversation_id' to retry")
            if "message" in data:
                raise BadRequest("'retry' re-asks the last question: send no 'message'")
            text = None
        else:
            text = fields.text(data.get("message"), "message", max_chars=MAX_MESSAGE_CHARS)
            if not text.strip():
                raise BadRequest("'message' must not be empty")
        model, api_base = self.config.resolve(*self._overrides(data))
        if conversation_id is not None and any(
            cid == conversation_id for cid, _ in self._streams.values()
        ):
            raise Conflict(f"conversation {conversation_id} is still answering; stop it first")
        self.assistant.require_sidecar()

        def write(conn: sqlite3.Connection) -> tuple[sqlite3.Row, sqlite3.Row, list[dict]]:
            stamp = fields.now()
            cid = conversation_id
            if cid is None:
                title = " ".join((text or "").split())[:60] or "New chat"
                cid = conn.execute(
                    "INSERT INTO conversations(title, created, updated) VALUES (?, ?, ?)",
                    (title, stamp, stamp),
                ).lastrowid
            else:
                _load_conversation(conn, cid)
            if retry:
                asked = conn.execute(
                    "SELECT * FROM messages WHERE conversation_id = ? AND role = 'user' "
                    "ORDER BY id DESC LIMIT 1",
                    (cid,),
                ).fetchone()
                if asked is None:
                    raise BadRequest(f"conversation {cid} has no question to retry")
                conn.execute(
                    "DELETE FROM messages WHERE conversation_id = ? AND id > ?", (cid, asked["id"])
                )
            else:
                new_id = conn.execute(
                    "INSERT INTO messages(conversation_id, role, content, created) "
                    "VALUES (?, 'user', ?, ?)",
                    (cid, text, stamp),
                ).lastrowid
                asked = conn.execute("SELECT * FROM messages WHERE id = ?", (new_id,)).fetchone()
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, cid))
            history = conn.execute(
                "SELECT role, content FROM messages WHERE conversation_id = ? AND id <= ? "
                "AND content != '' ORDER BY id",
                (cid, asked["id"]),
            ).fetchall()
            return _load_conversation(conn, cid), asked, [dict(h) for h in history]

        conversation_row, asked, history = await self.store.run(write)
        stream_id = secrets.token_hex(8)
        cid = conversation_row["id"]
        task = asyncio.ensure_future(self._relay(stream_id, cid, model, api_base, history))
        self._streams[stream_id] = (cid, task)
        task.add_done_callback(lambda _: self._streams.pop(stream_id, None))
        conversation = self._conversation(conversation_row)
        user_message = _message(asked)
        self.bus.publish(
            {
                "type": protocol.CHAT_STARTED,
                "conversation_id": cid,
                "stream_id": stream_id,
                "message": user_message,
                "origin": origin,
                "conversation": conversation,
            }
        )
        return {"conversation": conversation, "message": user_message, "stream_id": stream_id}

    async def cancel(self, stream_id: str) -> None:
        entry = self._streams.get(stream_id)
        if entry is None:
            raise NotFound(f"unknown or finished chat stream: {stream_id[:40]}")
        await cancel_and_wait(entry[1])

    async def stop(self) -> None:
        """Server shutdown: stop every stream, keeping what has arrived."""
        for stream_id in list(self._streams):
            with contextlib.suppress(NotFound):
                await self.cancel(stream_id)

    async def _relay(
        self,
        stream_id: str,
        cid: int,
        model: str,
        api_base: str | None,
        history: list[dict[str, str]],
    ) -> None:
        pieces: list[str] = []
        status, error, kind = "error", None, None
        base = {"conversation_id": cid, "stream_id": stream_id}
        hits: list[dict[str, Any]] = []
        mode = None
        try:
            if self.search is not None:
                question = history[-1]["content"] if history else ""
                hits = await grounding.retrieve(self.search, question)
            if hits:
                mode = "grounded"
                self.bus.publish(
                    {
                        "type": protocol.CHAT_CONTEXT,
                        **base,
                        "sources": [grounding.source_of(h) for h in hits],
                    }
                )
            messages = self.assistant.chat_messages(history, hits)
            # interactive: a research job's model request yields to this one
            async for text in self.assistant.stream(messages, model, api_base, interactive=True):
                pieces.append(text)
                self.bus.publish({"type": protocol.CHAT_TOKEN, **base, "text": text})
            status = "complete"
        except ModelFailed as e:
            error, kind = e.message, e.kind
        except AnswerCut:
            error, kind = "the AI sidecar stopped while answering", "sidecar"
        except SidecarGone as e:
            error, kind = f"{e}; it is being restarted", "sidecar"
        except asyncio.CancelledError:
            status, kind = "partial", "cancelled"
        except Exception as e:  # a stream must always end with an event
            error, kind = f"chat relay failed: {type(e).__name__}", "other"
        if status == "error" and error is None:
            error = "the answer ended without a result"
        text = "".join(pieces)
        if (
            status == "error"
            and error is not None
            and hits
            and not text
            and kind in RETRIEVAL_ONLY_KINDS
        ):
            # No model answered: the passages are the answer, its error says why in one
            # line, and no model is named as its author.
            question = history[-1]["content"] if history else ""
            text, status, mode = (
                grounding.retrieval_only_answer(hits, question),
                "complete",
                "retrieval-only",
            )
            error = grounding.no_model_reason(kind, error, model, api_base)
        sources = [grounding.source_of(h) for h in hits]
        message = await self._store_answer(
            cid,
            text,
            status,
            error,
            None if mode == "retrieval-only" else model,
            sources,
            mode,
            kind if error else None,
        )
        if status == "error":
            self.bus.publish(
                {
                    "type": protocol.CHAT_ERROR,
                    **base,
                    "error": error,
                    "kind": kind,
                    "message": message,
                }
            )
        else:
            self.bus.publish(
                {
                    "type": protocol.CHAT_DONE,
                    **base,
                    "message": message,
                    "cancelled": kind == "cancelled",
                }
            )

    async def _store_answer(
        self,
        cid: int,
        text: str,
        status: str,
        error: str | None,
        model: str | None,
        sources: list[dict[str, Any]],
        mode: str | None,
        error_kind: str | None,
    ) -> dict[str, Any] | None:
        def write(conn: sqlite3.Connection) -> dict[str, Any] | None:
            if conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
                return None  # deleted while answering
            stamp = fields.now()
            new_id = conn.execute(
                "INSERT INTO messages(conversation_id, role, content, status, error, model, "
                "created, sources, mode, error_kind) "
                "VALUES (?, 'assistant', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    text,
                    status,
                    error,
                    model,
                    stamp,
                    json.dumps(sources) if sources else None,
                    mode,
                    error_kind,
                ),
            ).lastrowid
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, cid))
            return _message(
                conn.execute("SELECT * FROM messages WHERE id = ?", (new_id,)).fetchone()
            )

        return await self.store.run(write)


def _load_conversation(conn: sqlite3.Connection, conversation_id: int | None) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown conversation id: {conversation_id}")
    return row
