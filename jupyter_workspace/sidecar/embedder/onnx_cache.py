"""Where a built ONNX model lives, and when it is reused.

<cache_dir>/<model>/<key>/model-int8.onnx     the graph onnxruntime runs
<cache_dir>/<model>/<key>/model-int8.json     manifest: sha256, probe vectors, timings
<cache_dir>/<model>/.lock                     taken while building (fcntl, where available)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from .spec import ModelSpec

# Bump when the export / fusion / quantization recipe changes: it is part of the cache key.
# If a change alters the vectors, change the backend's model_id too, so indexes are rebuilt.
RECIPE = 2  # 2: layer 0 FFN output kept fp32
FINGERPRINT_BYTES = 1 << 20
UNUSED_DAYS = 30  # another key's folder is removed once unused this long


def cache_folder(spec: ModelSpec, cache_dir: Path) -> Path:
    """`<cache_dir>/<model>/<key>`: the key changes with the recipe, the source model's files
    and onnxruntime's version. Weights count by content, not by time stamp: a reinstall of
    the same model (a second virtual environment, a clean clone's) finds the same model."""
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
            key.update(f"{rel}:".encode() + _fingerprint(f))
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in spec.name)
    return Path(cache_dir) / safe / key.hexdigest()[:16]


def _fingerprint(path: Path) -> bytes:
    """Size and the first and last MiB of a weights file: a different model differs there, and
    it costs milliseconds where hashing the whole file would cost a tenth of a second a load."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        digest.update(f.read(FINGERPRINT_BYTES))
        if size > 2 * FINGERPRINT_BYTES:
            f.seek(-FINGERPRINT_BYTES, 2)
            digest.update(f.read())
    return digest.digest()


def mark_used(artifact: Path) -> None:
    """Date the cache entry as used now (its manifest's mtime), so that pruning keeps it."""
    with contextlib.suppress(OSError):
        os.utime(artifact.with_suffix(".json"))


def prune(keep: Path, max_age: float = UNUSED_DAYS * 86400) -> None:
    """Remove the model's other cache folders (other keys: another onnxruntime, recipe or
    model) and crashed builds once nothing has used them for `max_age` seconds. Not at once:
    two environments with different onnxruntime versions would otherwise rebuild in turn."""
    now = time.time()
    for other in keep.parent.iterdir():
        if not other.is_dir() or other == keep:
            continue
        used = max((f.stat().st_mtime for f in other.iterdir()), default=other.stat().st_mtime)
        if now - used > max_age:
            shutil.rmtree(other, ignore_errors=True)


@contextlib.contextmanager
def lock(path: Path) -> Iterator[None]:
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
