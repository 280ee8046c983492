"""Sentence embeddings for the index: a small interface over interchangeable backends.

Backends (`load_embedder(model, backend, cache_dir)`):

- ``torch``: sentence-transformers fp32 on the CPU, the reference.
- ``onnx-int8`` (what ``auto`` picks): the model's transformer exported once from the local
  weights to ONNX (``torch.onnx.export``), its attention / layer norms / GELU fused by
  onnxruntime's transformer optimizer, its MatMuls quantized to int8 (dynamic, per-channel
  QInt8 weights; the first layer's FFN output projection stays fp32), run by onnxruntime:
  one single-threaded run per core in parallel, one text per run (no padding; a text's
  vector does not depend on its neighbours). Tokenized by the model's fast tokenizer with
  the reference's truncation (256 tokens); pooling and normalisation as the
  sentence-transformers config says. About 3x the reference's throughput at cosine 0.996 to
  it, same recall (bench/bench_embed.py).
- ``onnx-fp32``: the same graph, not quantized: cosine 1.0 to the reference, ~1.3× its speed.
- ``litellm:<model>``: a remote embedding endpoint through ``litellm.embedding``
  (``JUPYTER_WORKSPACE_EMBEDDING_API_BASE``, key in ``JUPYTER_WORKSPACE_LLM_API_KEY``).
- ``openai:<model>``: an OpenAI-compatible ``/embeddings`` endpoint over plain HTTP
  (text-embeddings-inference, Infinity, a litellm proxy): several batches in flight, bounded
  retries on 429 / 5xx / dropped connections (``openai_http``; base URL in
  ``JUPYTER_WORKSPACE_EMBEDDING_API_BASE``, key in ``JUPYTER_WORKSPACE_EMBEDDING_API_KEY``).
- ``auto``: ``onnx-int8`` if onnxruntime is there and the export (or the cached one) works and
  passes its quality check, else ``torch``; the reason is logged.

The ONNX files are cached under ``cache_dir`` (the sidecar passes ``<state_dir>/models/``)::

    <cache_dir>/<model>/<key>/model-int8.onnx     the graph onnxruntime runs
    <cache_dir>/<model>/<key>/model-int8.json     manifest: sha256, probe vectors, timings
    <cache_dir>/<model>/.lock                     taken while building (fcntl, where available)

``<key>`` hashes the export recipe, the source model's files and onnxruntime's version, so any
of them changing builds a new folder. Files are built in a temporary
folder next to the cache and moved in with ``os.replace``, the manifest last: a crash mid-export
leaves no half-written model that looks valid. On load the manifest, the file's sha256 and the
quality of a few probe texts (against fp32 reference vectors stored at build time) are checked;
a cache that fails any of these is rebuilt.

The export runs in a child process (``onnx_build.build_in_child``): torch and the reference
model never stay in the sidecar's memory. Two environments with the same model files share a
cache entry (weights are keyed by content); another key's folder is removed after 30 days unused.

Heavy libraries (torch, onnxruntime, transformers, sentence_transformers, litellm) are
imported inside functions only: importing this package is cheap.

Modules: ``spec`` (the interface, the model's files, errors), ``onnx_runtime`` (run),
``onnx_cache`` (where a build lives, its key, pruning, the build lock), ``onnx_build`` (export,
fuse, quantize, check; the child process), ``torch_backend``, ``remote`` (litellm),
``openai_http`` (plain HTTP).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .onnx_runtime import OnnxEmbedder
from .openai_http import OpenAIHTTPEmbedder
from .remote import API_BASE_ENV, LiteLLMEmbedder
from .spec import (
    BACKENDS,
    DEFAULT_MODEL,
    PROBES,
    Embedder,
    EmbedderError,
    ModelSpec,
    cpu_threads,
    default_cache_dir,
    resolve_model,
)
from .torch_backend import TorchEmbedder

__all__ = [
    "API_BASE_ENV",
    "BACKENDS",
    "DEFAULT_MODEL",
    "PROBES",
    "Embedder",
    "EmbedderError",
    "LiteLLMEmbedder",
    "ModelSpec",
    "OnnxEmbedder",
    "OpenAIHTTPEmbedder",
    "TorchEmbedder",
    "cpu_threads",
    "default_cache_dir",
    "load_embedder",
    "resolve_model",
]

log = logging.getLogger(__name__)


def load_embedder(
    model: str = DEFAULT_MODEL, backend: str = "auto", cache_dir: Path | None = None
) -> Embedder:
    """Load `model` with `backend` (see the module docstring); raises EmbedderError."""
    if backend.startswith("litellm:"):
        return LiteLLMEmbedder(backend.split(":", 1)[1])
    if backend.startswith("openai:"):
        return OpenAIHTTPEmbedder(backend.split(":", 1)[1])
    spec = resolve_model(model)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if backend == "torch":
        return TorchEmbedder(spec)
    if backend in ("onnx-int8", "onnx-fp32"):
        return _loaded(OnnxEmbedder.load(spec, backend, cache_dir))
    if backend == "auto":
        try:
            return _loaded(OnnxEmbedder.load(spec, "onnx-int8", cache_dir))
        except Exception as e:  # any failure of the fast path falls back
            log.warning("embedding backend onnx-int8 unavailable, using torch: %s", e)
            embedder = TorchEmbedder(spec)
            embedder.info["fallback_reason"] = str(e)
            return embedder
    raise EmbedderError(f"unknown embedding backend {backend!r}: one of {', '.join(BACKENDS)}")


def _loaded(embedder: OnnxEmbedder) -> OnnxEmbedder:
    info = embedder.info
    log.info(
        "embedding model %s: %s in %.1f s (%d threads)",
        embedder.model_id,
        "exported to ONNX" if info.get("exported") else "loaded from cache",
        info.get("load_seconds") or 0.0,
        info.get("threads") or 1,
    )
    return embedder
