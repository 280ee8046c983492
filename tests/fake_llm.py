"""A small fake LLM server for tests: OpenAI chat-completions (SSE) and Ollama (NDJSON).

It runs on 127.0.0.1 in a thread, so litellm's real HTTP path is exercised end to end. It
records every request, counts clients that hung up mid-stream, and can fail on demand. A test
may script the answer per request (`respond`: the request's messages → the whole reply), and a
streamed OpenAI answer ends with a usage chunk when the request asks for one
(`stream_options.include_usage`), as OpenAI's does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeLLM:
    tokens: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    delay: float = 0.0  # seconds between tokens
    # (HTTP status, message) to answer instead; "{authorization}" in the message is replaced by
    # the request's Authorization header, as a careless provider echoes it
    fail: tuple[int, str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    disconnects: int = 0
    completed: int = 0
    # the whole reply to a request's messages (streamed in pieces of PIECE_CHARS), instead of
    # `tokens`: a test scripts answers by the system prompt
    respond: Callable[[list[dict[str, Any]]], str] | None = None
    # the usage chunks sent ({prompt_tokens, completion_tokens, total_tokens}), in order
    usages: list[dict[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeLLM:
        """Serve on `port` (0: any free one), e.g. one a server was configured with before
        the LLM came up."""
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def reply(self) -> str:
        return "".join(self.tokens)

    def pieces_for(self, messages: list[dict[str, Any]]) -> list[str]:
        """What the answer to `messages` is streamed as."""
        if self.respond is None:
            return list(self.tokens)
        text = self.respond(messages)
        return [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)] or [""]

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return False


PIECE_CHARS = 40


def _count_tokens(text: str) -> int:
    """A stand-in tokenizer: about four characters a token, as for English text."""
    return len(text) // 4 + 1


class _Handler(BaseHTTPRequestHandler):
    owner: FakeLLM
    tokens: list[str]  # this request's answer, in the pieces it is streamed as
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/api/tags"):
            self._json(200, {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]})
        elif self.path.startswith("/v1/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        fake = self.owner
        with fake._lock:
            fake.requests.append(
                {
                    "path": self.path,
                    "body": body,
                    "authorization": self.headers.get("Authorization"),
                }
            )
        if fake.fail is not None:
            status, message = fake.fail
            message = message.replace("{authorization}", self.headers.get("Authorization") or "")
            self._json(
                status, {"error": {"message": message, "type": "fake_error", "code": status}}
            )
            return
        model = body.get("model", "fake")
        messages = body.get("messages") or []
        self.tokens = fake.pieces_for(messages) if isinstance(messages, list) else fake.tokens
        if self.path.rstrip("/").endswith("/chat/completions"):
            if body.get("stream"):
                usage = None
                if (body.get("stream_options") or {}).get("include_usage"):
                    prompt = sum(
                        _count_tokens(str(m.get("content", "")))
                        for m in messages
                        if isinstance(m, dict)
                    )
                    completion = _count_tokens("".join(self.tokens))
                    usage = {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    }
                self._stream_openai(model, usage)
            else:
                self._json(200, _openai_full(model, "".join(self.tokens)))
        elif self.path.startswith("/api/chat"):
            self._stream_ndjson(
                lambda tok, done: {
                    "model": model,
                    "created_at": "2026-11-25T00:00:00Z",
                    "message": {"role": "assistant", "content": tok},
                    "done": done,
                    **(
                        {
                            "done_reason": "stop",
                            "eval_count": len(self.tokens),
                            "prompt_eval_count": 3,
                        }
                        if done
                        else {}
                    ),
                }
            )
        elif self.path.startswith("/api/show"):
            self._json(
                200,
                {
                    "modelfile": "",
                    "parameters": "",
                    "template": "",
                    "details": {"family": "llama"},
                    "model_info": {},
                },
            )
        elif self.path.startswith("/api/generate"):
            self._stream_ndjson(
                lambda tok, done: {
                    "model": model,
                    "created_at": "2026-11-25T00:00:00Z",
                    "response": tok,
                    "done": done,
                    **({"done_reason": "stop"} if done else {}),
                }
            )
        else:
            self._json(404, {"error": f"no route {self.path}"})

    # -- answers ------------------------------------------------------------------------------
    def _json(self, status: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError):
            with self.owner._lock:
                self.owner.disconnects += 1
            return False

    def _pieces(self):
        for i, token in enumerate(self.tokens):
            if i and self.owner.delay:
                time.sleep(self.owner.delay)
            yield token

    def _stream_openai(self, model: str, usage: dict[str, int] | None = None) -> None:
        self._start_stream("text/event-stream")
        for token in self._pieces():
            chunk = _openai_chunk(model, {"role": "assistant", "content": token}, None)
            if not self._write(f"data: {json.dumps(chunk)}\n\n".encode()):
                return
        final = f"data: {json.dumps(_openai_chunk(model, {}, 'stop'))}\n\n"
        if usage is not None:
            # OpenAI's last chunk when include_usage is asked: no choices, the usage
            with self.owner._lock:
                self.owner.usages.append(usage)
            last = {**_openai_chunk(model, {}, None), "choices": [], "usage": usage}
            final += f"data: {json.dumps(last)}\n\n"
        if self._write(f"{final}data: [DONE]\n\n".encode()):
            with self.owner._lock:
                self.owner.completed += 1

    def _stream_ndjson(self, line) -> None:
        self._start_stream("application/x-ndjson")
        for token in self._pieces():
            if not self._write((json.dumps(line(token, False)) + "\n").encode()):
                return
        if self._write((json.dumps(line("", True)) + "\n").encode()):
            with self.owner._lock:
                self.owner.completed += 1


def _openai_chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1764028800,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _openai_full(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1764028800,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
