"""A small OpenAI-compatible embeddings server for tests and benchmarks: POST /v1/embeddings.

Runs on 127.0.0.1 in a thread (like fake_llm.py), so the client's real HTTP path is exercised.
Deterministic vectors: a hashed bag of words (`bag_of_words`, 384-d, unit length: similar
texts get similar vectors, enough for a search test), or with `cheap=True` a vector seeded by
the text's hash (no meaning, a few microseconds: the benchmark's stand-in for a GPU server,
whose CPU is not the client's). It answers after `delay + per_text * len(inputs)` seconds,
can fail on demand (`failures`: the next answers, each a status code, "drop" or
"malformed"), answers out of order (the client must sort by `index`), and counts requests,
texts and the requests in flight at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

DIM = 384


def bag_of_words(text: str, dim: int = DIM) -> list[float]:
    """A deterministic unit vector: words (and the parts of snake_case / camelCase names)
    hashed into `dim` signed buckets."""
    vector = np.zeros(dim, dtype=np.float64)
    words = re.findall(r"[A-Za-z][a-z0-9]*|[0-9]+", text.replace("_", " "))
    for word in [w.lower() for w in words] + [w.lower() for w in text.split()]:
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        vector[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = np.linalg.norm(vector)
    if not norm:
        vector[0], norm = 1.0, 1.0
    return (vector / norm).tolist()


def hashed(text: str, dim: int = DIM) -> list[float]:
    """A unit vector seeded by the text's hash: deterministic, meaningless, cheap."""
    seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    vector = np.random.default_rng(seed).standard_normal(dim)
    return (vector / np.linalg.norm(vector)).round(6).tolist()


class FakeEmbeddings:
    """OpenAI-compatible POST /v1/embeddings on 127.0.0.1, in a thread."""

    def __init__(self, delay: float = 0.0, per_text: float = 0.0, cheap: bool = False) -> None:
        self.delay = delay  # seconds per request ...
        self.per_text = per_text  # ... plus per text
        self.cheap = cheap
        self.failures: list[Any] = []  # next answers: a status (int), "drop" or "malformed"
        self.dim = DIM
        self.lock = threading.Lock()
        self.requests = 0
        self.texts = 0
        self.inputs: list[str] = []  # every text embedded, in the order received
        self.in_flight = 0
        self.max_in_flight = 0
        self.authorization: set[str | None] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.requests += 1
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    fake.authorization.add(self.headers.get("Authorization"))
                    failure = fake.failures.pop(0) if fake.failures else None
                try:
                    self.answer(body, failure)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def answer(self, body: dict[str, Any], failure: Any) -> None:
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                time.sleep(fake.delay + fake.per_text * len(inputs))
                if failure == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if isinstance(failure, int):
                    # a careless server echoes the request's Authorization header
                    echo = self.headers.get("Authorization") or ""
                    return self.json(failure, {"error": {"message": f"no ({echo})"}})
                if failure == "malformed":
                    return self.json(200, {"object": "list", "vectors": []})
                if self.path != "/v1/embeddings":
                    return self.json(404, {"error": {"message": "not found"}})
                with fake.lock:
                    fake.texts += len(inputs)
                    fake.inputs.extend(inputs)
                vector = hashed if fake.cheap else bag_of_words
                data = [
                    {"object": "embedding", "index": i, "embedding": vector(t, fake.dim)}
                    for i, t in enumerate(inputs)
                ]
                data.reverse()  # out of order: the client sorts by index
                self.json(200, {"object": "list", "data": data, "model": body["model"]})

            def json(self, status: int, payload: Any) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
