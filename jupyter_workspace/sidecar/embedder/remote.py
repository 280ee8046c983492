"""The ``litellm:<model>`` backend: a remote embedding endpoint."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ... import protocol
from .spec import EmbedderError, _empty, _normalise

if TYPE_CHECKING:
    import numpy

API_BASE_ENV = "JUPYTER_WORKSPACE_EMBEDDING_API_BASE"


class LiteLLMEmbedder:
    """Embeddings from a provider through `litellm.embedding` (the model name as litellm wants
    it, e.g. ``openai/text-embedding-3-small`` or ``ollama/nomic-embed-text``)."""

    def __init__(self, model: str, api_base: str | None = None, timeout: float = 120.0) -> None:
        if not model:
            raise EmbedderError("litellm backend needs a model: litellm:<provider/model>")
        started = time.monotonic()
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        try:
            import litellm
        except ImportError as e:
            raise EmbedderError(f"the litellm backend needs litellm ({e})") from None
        litellm.suppress_debug_info = True
        self._litellm = litellm
        self.model = model
        self.api_base = api_base or os.environ.get(API_BASE_ENV) or None
        self.timeout = timeout
        self.model_id = f"litellm:{model}"
        self.dim = len(self._call(["dimension probe"])[0])
        self.info: dict[str, Any] = {
            "backend": "litellm",
            "exported": False,
            "api_base": self.api_base,
            "load_seconds": round(time.monotonic() - started, 3),
        }

    def _call(self, batch: list[str]) -> list[list[float]]:
        kwargs: dict[str, Any] = {"model": self.model, "input": batch, "timeout": self.timeout}
        if self.api_base:
            kwargs["api_base"] = self.api_base
        key = os.environ.get(protocol.LLM_API_KEY_ENV)
        if key:
            kwargs["api_key"] = key
        try:
            response = self._litellm.embedding(**kwargs)
        except Exception as e:
            raise EmbedderError(
                f"embedding request to {self.model} failed: {type(e).__name__}: {e}"
            ) from None
        items = [dict(item) if not isinstance(item, dict) else item for item in response.data]
        items.sort(key=lambda item: item.get("index", 0))
        if len(items) != len(batch):
            raise EmbedderError(f"{self.model} returned {len(items)} vectors for {len(batch)}")
        return [item["embedding"] for item in items]

    def embed(self, texts: list[str], batch_size: int = 32) -> numpy.ndarray:
        import numpy as np

        if not texts:
            return _empty(self.dim)
        rows: list[list[float]] = []
        for start in range(0, len(texts), max(1, batch_size)):
            rows.extend(self._call(list(texts[start : start + batch_size])))
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise EmbedderError(f"{self.model} changed dimension: {vectors.shape[1]} != {self.dim}")
        return _normalise(vectors)
