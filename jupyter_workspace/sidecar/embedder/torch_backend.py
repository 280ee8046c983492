"""The ``torch`` backend: sentence-transformers fp32 on the CPU, the reference."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .spec import EmbedderError, ModelSpec, _empty, _offline

if TYPE_CHECKING:
    import numpy


class TorchEmbedder:
    def __init__(self, spec: ModelSpec) -> None:
        started = time.monotonic()
        _offline()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise EmbedderError(f"the torch backend needs sentence-transformers ({e})") from None
        self.model = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
        self.model_id = f"{spec.name}/torch-fp32"
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise EmbedderError(f"{spec.name} does not say the dimension of its embeddings")
        self.dim = int(dim)
        self.info: dict[str, Any] = {
            "backend": "torch",
            "exported": False,
            "load_seconds": round(time.monotonic() - started, 3),
        }

    def embed(self, texts: list[str], batch_size: int = 32) -> numpy.ndarray:
        if not texts:
            return _empty(self.dim)
        import numpy as np

        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
