"""The embedding backends, with the real bundled model (all-MiniLM-L6-v2), offline.

One ONNX export per session (module fixture) plus one rebuild for the corrupt-cache test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from jupyter_workspace.sidecar import embedder as emb

ROOT = Path(__file__).resolve().parent.parent

SNIPPETS = [
    "json/__init__.py · function loads\ndef loads(s, *, cls=None, object_hook=None, **kw):\n"
    '    """Deserialize ``s`` (a str, bytes or bytearray containing a JSON document) to a\n'
    '    Python object."""\n    return _default_decoder.decode(s)\n',
    "net/retry.py · function fetch_with_retry\ndef fetch_with_retry(url, attempts=5):\n"
    "    for attempt in range(attempts):\n        try:\n            return httpx.get(url)\n"
    "        except httpx.TransportError:\n            time.sleep(2 ** attempt)\n",
    "src/matrix.c · function mat_mul\nvoid mat_mul(const double *a, const double *b, double *c,"
    " int n) {\n  for (int i = 0; i < n; i++)\n    for (int j = 0; j < n; j++) {\n"
    "      double s = 0;\n      for (int k = 0; k < n; k++) s += a[i*n+k] * b[k*n+j];\n"
    "      c[i*n+j] = s;\n    }\n}\n",
    "docs/install.md · section Installation\n## Installation\n\nInstall with `pip install "
    "jupyter-workspace`, then run `jupyter lab` and open the Workspace panel.\n",
    "tests/test_cache.py · function test_lru_eviction\ndef test_lru_eviction():\n"
    "    cache = LRUCache(2)\n    cache.put('a', 1); cache.put('b', 2); cache.put('c', 3)\n"
    "    assert cache.get('a') is None\n",
    # longer than the model's 256 tokens: both backends must truncate the same way
    "big/table.py · module\n"
    + "\n".join(
        f"ROW_{i} = compute_value(alpha={i}, beta=beta_{i}, name='row {i}')  # row {i}"
        for i in range(60)
    ),
    "x",
    "",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


COLD_BUILD = (
    "import sys, json\nfrom jupyter_workspace.sidecar.embedder import load_embedder\n"
    "e = load_embedder(backend='onnx-int8', cache_dir=sys.argv[1])\n"
    "rss = int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) // 1024\n"
    "print(json.dumps([e.info['exported'], [m for m in ('torch', 'transformers', "
    "'sentence_transformers') if m in sys.modules], rss]))"
)


@pytest.fixture(scope="module")
def cold_build(cache_dir):
    """The export, done by a fresh process as a sidecar does it: [exported, heavy modules
    left in that process, its RSS in MiB]."""
    out = subprocess.run(
        [sys.executable, "-c", COLD_BUILD, str(cache_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fast(cache_dir, cold_build):
    embedder = emb.load_embedder(backend="onnx-int8", cache_dir=cache_dir)
    assert embedder.info["exported"] is False  # cold_build built it
    return embedder


def test_the_export_leaves_nothing_heavy_in_the_process_that_asked(cold_build):
    """The export needs torch and the fp32 model; a child process does it, so the sidecar
    does not keep them (1.3 GB resident instead of ~115 MB, measured, when it did)."""
    exported, heavy, rss_mib = cold_build
    assert exported is True
    assert heavy == []
    if sys.platform.startswith("linux"):
        assert rss_mib < 600, rss_mib


def test_a_failed_build_in_the_child_says_why(tmp_path, monkeypatch):
    spec = emb.resolve_model()
    broken = emb.ModelSpec(**{**spec.__dict__, "max_seq_length": spec.max_seq_length + 1})
    with pytest.raises(emb.EmbedderError, match="max_seq_length"):
        emb.OnnxEmbedder.load(broken, "onnx-int8", tmp_path)


def test_the_cache_key_follows_the_weights_not_their_time_stamps(tmp_path):
    from jupyter_workspace.sidecar.embedder.onnx_cache import cache_folder

    spec = emb.resolve_model()
    copy = tmp_path / "model"
    shutil.copytree(spec.path, copy)  # new time stamps, as a second environment's install
    for f in copy.rglob("*"):
        os.utime(f, (1_000_000_000, 1_000_000_000))
    moved = emb.ModelSpec(**{**spec.__dict__, "path": copy})
    assert cache_folder(moved, tmp_path).name == cache_folder(spec, tmp_path).name
    weights = next(copy.rglob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[4096] ^= 0xFF  # another model: same size, different weights
    weights.write_bytes(bytes(data))
    assert cache_folder(moved, tmp_path).name != cache_folder(spec, tmp_path).name


def test_other_cache_keys_are_pruned_only_when_unused_for_long(tmp_path):
    from jupyter_workspace.sidecar.embedder.onnx_cache import prune

    model = tmp_path / "all-MiniLM-L6-v2"
    keep, recent, old = model / "k1", model / "k2", model / "k3"
    for folder in (keep, recent, old):
        folder.mkdir(parents=True)
        (folder / "model-int8.json").write_text("{}")
    os.utime(old / "model-int8.json", (1_000_000_000, 1_000_000_000))
    prune(keep)
    assert keep.exists() and recent.exists()  # another environment's model, in use
    assert not old.exists()


@pytest.fixture(scope="module")
def reference():
    return emb.load_embedder(backend="torch")


def test_module_import_is_light():
    code = (
        "import sys, json; import jupyter_workspace.sidecar.embedder\n"
        "print(json.dumps([m for m in ('torch', 'onnxruntime', 'transformers', "
        "'sentence_transformers', 'tokenizers', 'litellm', 'numpy') if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("which", ["fast", "reference"])
def test_shapes_dtype_normalised(which, request):
    embedder = request.getfixturevalue(which)
    assert isinstance(embedder, emb.Embedder)
    assert embedder.dim == 384
    vectors = embedder.embed(SNIPPETS)
    assert vectors.shape == (len(SNIPPETS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_model_ids(fast, reference):
    assert fast.model_id == "all-MiniLM-L6-v2/onnx-int8"
    assert reference.model_id == "all-MiniLM-L6-v2/torch-fp32"


def test_order_preserved_under_length_sorting(fast):
    together = fast.embed(SNIPPETS, batch_size=3)
    one_by_one = np.stack([fast.embed([t])[0] for t in SNIPPETS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    shuffled = [SNIPPETS[i] for i in (5, 0, 7, 2, 6, 1, 4, 3)]
    np.testing.assert_allclose(fast.embed(shuffled), together[[5, 0, 7, 2, 6, 1, 4, 3]], atol=1e-5)


def test_fast_close_to_torch(fast, reference):
    cosines = (fast.embed(SNIPPETS) * reference.embed(SNIPPETS)).sum(axis=1)
    assert cosines.min() >= 0.97, cosines
    assert cosines.mean() >= 0.98, cosines


def test_fp32_onnx_matches_torch(cache_dir, reference):
    """The unquantized graph is the reference's own computation (cosine 1 to 1e-4)."""
    fp32 = emb.load_embedder(backend="onnx-fp32", cache_dir=cache_dir)
    assert fp32.model_id == "all-MiniLM-L6-v2/onnx-fp32"
    cosines = (fp32.embed(SNIPPETS, batch_size=4) * reference.embed(SNIPPETS)).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


@pytest.mark.parametrize("which", ["fast", "reference"])
def test_query_ranks_the_right_snippet_first(which, request):
    embedder = request.getfixturevalue(which)
    docs = embedder.embed(SNIPPETS[:5])
    for query, expected in [
        ("parse a JSON document into a Python object", 0),
        ("retry an HTTP request with exponential backoff", 1),
        ("multiply two matrices", 2),
        ("how to install the package", 3),
    ]:
        scores = docs @ embedder.embed([query])[0]
        assert int(np.argmax(scores)) == expected, (query, scores)


def test_second_load_uses_the_cache(fast, cache_dir):
    model_file = Path(fast.info["cache"])
    mtime = model_file.stat().st_mtime_ns
    again = emb.load_embedder(backend="onnx-int8", cache_dir=cache_dir)
    assert again.info["exported"] is False
    assert model_file.stat().st_mtime_ns == mtime
    np.testing.assert_allclose(again.embed(SNIPPETS), fast.embed(SNIPPETS), atol=1e-6)
    # the layout: <cache>/<model>/<key>/model-int8.{onnx,json}, no temporary leftovers
    assert model_file.parent.parent == cache_dir / "all-MiniLM-L6-v2"
    names = {p.name for p in model_file.parent.iterdir()}
    assert (
        {"model-int8.onnx", "model-int8.json"}
        <= names
        <= {"model-int8.onnx", "model-int8.json", "model-fp32.onnx", "model-fp32.json"}
    )
    assert not [p for p in model_file.parent.parent.iterdir() if p.name.startswith(".build-")]
    # a new process loads from the cache without importing torch
    code = (
        "import sys, json\nfrom jupyter_workspace.sidecar.embedder import load_embedder\n"
        "e = load_embedder(backend='auto', cache_dir=sys.argv[1]); e.embed(['hi'])\n"
        "print(json.dumps([e.model_id, e.info['exported'], 'torch' in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(cache_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "all-MiniLM-L6-v2/onnx-int8",
        False,
        False,
    ]


def test_corrupt_cache_is_rebuilt(fast, cache_dir, tmp_path, reference):
    copy = tmp_path / "models"
    shutil.copytree(cache_dir, copy)
    model_file = copy / Path(fast.info["cache"]).relative_to(cache_dir)
    size = model_file.stat().st_size
    model_file.write_bytes(b"\0garbage" * 1000)  # e.g. a disk error or a half-copied state dir
    rebuilt = emb.load_embedder(backend="auto", cache_dir=copy)
    assert rebuilt.model_id == "all-MiniLM-L6-v2/onnx-int8"
    assert rebuilt.info["exported"] is True
    assert abs(model_file.stat().st_size - size) < size // 10
    cosines = (rebuilt.embed(SNIPPETS) * reference.embed(SNIPPETS)).sum(axis=1)
    assert cosines.min() >= 0.97
    # a manifest that does not match its model (a crash between the two renames) or that is
    # missing or torn is refused too, which makes load_embedder rebuild as above
    spec = emb.resolve_model()
    assert emb.OnnxEmbedder._open_cached(spec, "onnx-int8", model_file)[0] is not None
    manifest = model_file.with_suffix(".json")
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "sha256": "0" * 64}))
    assert emb.OnnxEmbedder._open_cached(spec, "onnx-int8", model_file) == (
        None,
        "checksum mismatch",
    )
    manifest.write_text(json.dumps(data)[:100])
    assert emb.OnnxEmbedder._open_cached(spec, "onnx-int8", model_file)[0] is None
    manifest.unlink()
    assert emb.OnnxEmbedder._open_cached(spec, "onnx-int8", model_file)[0] is None


def test_auto_falls_back_to_torch(monkeypatch, tmp_path, reference, caplog):
    def broken(*args, **kwargs):
        raise emb.EmbedderError("onnxruntime says no")

    monkeypatch.setattr(emb.OnnxEmbedder, "load", broken)
    embedder = emb.load_embedder(backend="auto", cache_dir=tmp_path)
    assert embedder.model_id == "all-MiniLM-L6-v2/torch-fp32"
    assert "onnxruntime says no" in embedder.info["fallback_reason"]
    assert "onnxruntime says no" in caplog.text
    with pytest.raises(emb.EmbedderError):
        emb.load_embedder(backend="onnx-int8", cache_dir=tmp_path)


def test_unknown_model_or_backend(tmp_path):
    with pytest.raises(emb.EmbedderError, match="unknown embedding backend"):
        emb.load_embedder(backend="tpu", cache_dir=tmp_path)
    with pytest.raises(emb.EmbedderError, match="unknown embedding model"):
        emb.load_embedder(model="no-such-model", cache_dir=tmp_path)


class _FakeEmbeddings(BaseHTTPRequestHandler):
    """OpenAI-compatible POST /v1/embeddings: a deterministic 8-d vector per input."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": [float(len(text) + 1), *(float(ord(c)) for c in text[:7].ljust(7))],
            }
            for i, text in enumerate(inputs)
        ]
        data.reverse()  # out of order: the client must sort by index
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_litellm_backend(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeEmbeddings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(emb.API_BASE_ENV, f"http://127.0.0.1:{server.server_port}/v1")
        monkeypatch.setenv("JUPYTER_WORKSPACE_LLM_API_KEY", "sk-test")
        embedder = emb.load_embedder(backend="litellm:openai/fake-embed")
        assert embedder.model_id == "litellm:openai/fake-embed"
        assert embedder.dim == 8
        texts = ["alpha", "be", "gamma ray", "d"]
        vectors = embedder.embed(texts, batch_size=3)
        assert vectors.shape == (4, 8) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
        # same order as the texts although the server answered in reverse
        raw = np.array(
            [[len(t) + 1, *(ord(c) for c in t[:7].ljust(7))] for t in texts], dtype=np.float32
        )
        np.testing.assert_allclose(
            vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-6
        )
    finally:
        server.shutdown()
        server.server_close()
