"""The ``openai:<model>`` backend: any OpenAI-compatible ``POST <api_base>/embeddings``.

Meant for an embedding server shared by a team or a CI machine: Hugging Face's
text-embeddings-inference (``http://tei:8080/v1``; start it with ``--auto-truncate``), Infinity
(``http://infinity:7997``), a litellm proxy (``http://litellm:4000/v1``) or OpenAI itself
(``https://api.openai.com/v1``). ``api_base`` is the part before ``/embeddings``, as OpenAI's
own client takes it.

Why plain HTTP (httpx) next to ``litellm:<model>`` rather than more of litellm: indexing a big
tree is thousands of requests, and what decides its speed and whether it finishes is how they
are sent: several batches in flight at once (a GPU server answers a batch in tens of ms, most
of which is the round trip), a bounded number of retries with backoff on 429, 5xx and dropped
connections (honouring ``Retry-After``), and a clear error when an answer is malformed or its
vectors change dimension. Those are a few lines here and are tested against a real HTTP server;
through litellm they would be its retry policy, its client pool and its error mapping, and
importing it costs seconds (it also tries to fetch its model price list). The wire format of
``/embeddings`` is small and the same everywhere; chat still goes through litellm.

Configuration (the sidecar reads the same environment, so the server's
``WorkspaceApp.embedding_backend = "openai:<model>"`` uses it too):

- ``JUPYTER_WORKSPACE_EMBEDDING_API_BASE``: the server's base URL (required).
- ``JUPYTER_WORKSPACE_EMBEDDING_API_KEY``: sent as ``Authorization: Bearer``; optional. Only
  this variable: the chat's key is never sent to the embedding server. Never logged; an error
  message that echoes it has it replaced.
- ``JUPYTER_WORKSPACE_EMBEDDING_CONCURRENCY`` (default 4): requests in flight at once, per
  process (one pool, whatever the number of callers).
- ``JUPYTER_WORKSPACE_EMBEDDING_BATCH_SIZE`` (default 32): texts per request (TEI's default
  ``--max-client-batch-size`` is 32).
- ``JUPYTER_WORKSPACE_EMBEDDING_RETRIES`` (default 5): retries of one request after the first
  attempt; the waits double from 0.5 s up to 20 s (± 25 % jitter), so a dead endpoint fails
  in about 15 s.

``model_id`` is ``openai:<model>`` (not the URL: the same model behind another address gives
the same vectors). Vectors are L2-normalised here whatever the server does.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .remote import API_BASE_ENV
from .spec import EmbedderError, _empty, _normalise

if TYPE_CHECKING:
    import numpy

API_KEY_ENV = "JUPYTER_WORKSPACE_EMBEDDING_API_KEY"
CONCURRENCY_ENV = "JUPYTER_WORKSPACE_EMBEDDING_CONCURRENCY"
BATCH_SIZE_ENV = "JUPYTER_WORKSPACE_EMBEDDING_BATCH_SIZE"
RETRIES_ENV = "JUPYTER_WORKSPACE_EMBEDDING_RETRIES"

DEFAULT_CONCURRENCY = 4
DEFAULT_BATCH_SIZE = 32
DEFAULT_RETRIES = 5
BACKOFF_FIRST = 0.5  # seconds before the first retry; doubled each time
BACKOFF_MAX = 20.0
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def _env_int(name: str, default: int, minimum: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EmbedderError(f"{name} must be an integer, not {value!r}") from None
    if number < minimum:
        raise EmbedderError(f"{name} must be at least {minimum}, not {number}")
    return number


class OpenAIHTTPEmbedder:
    """Embeddings from an OpenAI-compatible endpoint, several batches in flight at once."""

    def __init__(
        self,
        model: str,
        api_base: str | None = None,
        api_key: str | None = None,
        concurrency: int | None = None,
        batch_size: int | None = None,
        retries: int | None = None,
        timeout: float = 120.0,
    ) -> None:
        if not model:
            raise EmbedderError("the openai backend needs a model: openai:<model>")
        started = time.monotonic()
        base = (api_base or os.environ.get(API_BASE_ENV) or "").strip()
        if not base.startswith(("http://", "https://")):
            raise EmbedderError(
                f"the openai:{model} backend needs the embedding server's base URL in "
                f"{API_BASE_ENV} (or --api-base), e.g. http://tei:8080/v1"
                + (f"; got {base!r}" if base else "")
            )
        import httpx

        self.model = model
        self.model_id = f"openai:{model}"
        self.url = base.rstrip("/") + "/embeddings"
        self._key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        self.concurrency = concurrency or _env_int(CONCURRENCY_ENV, DEFAULT_CONCURRENCY, 1)
        self.batch_size = batch_size or _env_int(BATCH_SIZE_ENV, DEFAULT_BATCH_SIZE, 1)
        self.retries = retries if retries is not None else _env_int(RETRIES_ENV, DEFAULT_RETRIES, 0)
        self.timeout = timeout
        self._httpx = httpx
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
        )
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # what the summary of a run reports
        self.requests = 0  # HTTP requests sent, retries included
        self.retried = 0
        self.texts = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.dim = 0
        self.dim = len(self._request(["dimension probe"])[0])
        self.info: dict[str, Any] = {
            "backend": "openai",
            "exported": False,
            "api_base": base,
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
            "load_seconds": round(time.monotonic() - started, 3),
        }

    # -- one request ---------------------------------------------------------------------------
    def _mask(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, "[redacted]")
        return text

    def _request(self, batch: list[str]) -> list[list[float]]:
        """POST one batch, with bounded retries; the vectors in the order of `batch`."""
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        payload = {"model": self.model, "input": batch}
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            wait: float | None = None
            with self._lock:
                self.requests += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                response = self._client.post(self.url, json=payload, headers=headers)
            except self._httpx.TransportError as e:  # refused, reset, timed out, DNS
                problem = f"cannot reach {self.url}: {type(e).__name__}: {e}"
            else:
                if response.status_code == 200:
                    return self._parse(response, len(batch))
                problem = f"{self.url} answered {response.status_code}: {self._message(response)}"
                if response.status_code not in RETRY_STATUS:
                    raise EmbedderError(self._mask(problem))
                wait = _retry_after(response.headers.get("Retry-After"))
            finally:
                with self._lock:
                    self.in_flight -= 1
            if attempt == attempts:
                raise EmbedderError(
                    self._mask(f"embedding request failed {attempts} times, the last: {problem}")
                )
            with self._lock:
                self.retried += 1
            backoff = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempt - 1))
            time.sleep(min(BACKOFF_MAX, wait if wait is not None else backoff) * _jitter())
        raise AssertionError("unreachable")

    @staticmethod
    def _message(response: Any) -> str:
        try:
            body = response.json()
            error = body.get("error", body) if isinstance(body, dict) else body
            if isinstance(error, dict):
                error = error.get("message") or error
            text = str(error)
        except ValueError:
            text = response.text
        return " ".join(text.split())[:300] or "(no body)"

    def _parse(self, response: Any, count: int) -> list[list[float]]:
        """The answer's vectors by `index`; EmbedderError for anything else than `count`
        vectors of one length (the same as before, once the dimension is known)."""
        try:
            body = response.json()
        except ValueError:
            raise EmbedderError(
                f"{self.url} answered 200 with no JSON: {response.text[:200]!r}"
            ) from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise EmbedderError(
                self._mask(f"{self.url} answered without a `data` list: {str(body)[:200]}")
            )
        if len(data) != count:
            raise EmbedderError(f"{self.url} returned {len(data)} vectors for {count} texts")
        vectors: list[list[float] | None] = [None] * count
        for position, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("embedding"), list):
                raise EmbedderError(
                    f"{self.url}: item {position} of its answer has no `embedding` list"
                )
            index = item.get("index", position)
            if not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None:
                raise EmbedderError(f"{self.url}: bad or repeated index {index!r} in its answer")
            vector = item["embedding"]
            if not vector or not all(
                isinstance(x, int | float) and not isinstance(x, bool) for x in vector
            ):
                raise EmbedderError(f"{self.url}: vector {index} is not a list of numbers")
            vectors[index] = vector
        lengths = {len(v) for v in vectors if v is not None}
        if len(lengths) != 1:
            raise EmbedderError(f"{self.url} returned vectors of lengths {sorted(lengths)}")
        (length,) = lengths
        if self.dim and length != self.dim:
            raise EmbedderError(
                f"{self.url} changed dimension: its vectors have {length} numbers, "
                f"{self.model_id} had {self.dim} (another model behind the same name?)"
            )
        return vectors  # type: ignore[return-value]

    # -- the interface -------------------------------------------------------------------------
    def embed(self, texts: list[str], batch_size: int | None = None) -> numpy.ndarray:
        import numpy as np

        if not texts:
            return _empty(self.dim)
        size = max(1, batch_size or self.batch_size)
        batches = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        if len(batches) == 1:
            rows = self._request(batches[0])
        else:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        self.concurrency, thread_name_prefix="embed-request"
                    )
                pool = self._pool
            rows = [row for answer in pool.map(self._request, batches) for row in answer]
        vectors = np.asarray(rows, dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise EmbedderError(f"{self.url} returned vectors with NaN or infinite numbers")
        with self._lock:
            self.texts += len(texts)
        return _normalise(vectors)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retried,
                "texts": self.texts,
                "max_in_flight": self.max_in_flight,
            }

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds a 429/503 asks to wait (the number form only; a date is ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _jitter() -> float:
    return random.uniform(0.75, 1.25)
