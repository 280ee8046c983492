"""The ``onnx-int8`` / ``onnx-fp32`` backends at run time: an exported graph run by
onnxruntime, with tokenization, pooling and normalisation done here."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .onnx_cache import RECIPE, _sha256, cache_folder
from .spec import (
    PROBES,
    EmbedderError,
    ModelSpec,
    _empty,
    _normalise,
    _read_json,
    cpu_threads,
)

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

MAX_WORKERS = 8
TOKENS_PER_RUN = 256  # padded tokens per onnxruntime run (fewer texts per run when long)

# Minimum cosine to the fp32 reference, checked at build time and again on every load.
MIN_COSINE = {"onnx-fp32": 0.9999, "onnx-int8": 0.97}
MIN_MEAN_COSINE = {"onnx-fp32": 0.99999, "onnx-int8": 0.98}


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
        from .onnx_build import build_in_child
        from .onnx_cache import lock, mark_used, prune

        folder = cache_folder(spec, cache_dir)
        artifact = folder / f"model-{backend.split('-', 1)[1]}.onnx"
        embedder, problem = cls._open_cached(spec, backend, artifact)
        exported = False
        if embedder is None:
            if problem != "not built yet":
                log.warning("embedding model cache %s unusable (%s): rebuilding", artifact, problem)
            with lock(folder.parent / ".lock"):
                # Another process may have built it while this one waited for the lock.
                embedder, _ = cls._open_cached(spec, backend, artifact)
                if embedder is None:
                    build_in_child(spec, backend, artifact)
                    exported = True
                    embedder, problem = cls._open_cached(spec, backend, artifact)
                    if embedder is None:
                        raise EmbedderError(
                            f"{artifact} fails its check right after the build: {problem}"
                        )
                prune(folder)
        mark_used(artifact)
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
        except Exception as e:  # a bad file surfaces in many ways
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
            except BaseException as e:  # re-raised in the caller
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
