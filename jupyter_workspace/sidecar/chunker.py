"""Split source files into chunks that are worth embedding: definitions, not windows.

tree-sitter parses each supported language (grammars come from per-language wheels; nothing is
downloaded). Every definition (function, method, class, struct, module, section, ...) becomes a
chunk carrying its symbol, kind, language and 1-based inclusive line range; the lines of a
container that are not inside a nested definition (a class's fields, a module's header) form
the container's own chunk; code outside any definition forms `module` chunks. Anything longer
than the budget is split into overlapping windows. Files in other languages, or that a grammar
cannot parse, go through the line/paragraph fallback.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..languages import language_of
from .terms import spelled_out, split_identifier, terms

_FOOTER = re.compile(
    r"\s*[}\]);,]*\s*(end\b[\w\s]*|(public|private|protected)\s*:)?\s*"
    r"(//.*|!.*|#.*)?",
    re.IGNORECASE,
)
# kinds that are code to run (a closure inside one is part of it), not containers
FUNCTION_KINDS = frozenset({"function", "method", "subroutine", "procedure"})
MAX_LINES = 40  # ~256 tokens of code: what all-MiniLM-L6-v2 reads before it truncates
MAX_CHARS = 1200
OVERLAP = 5


@dataclass
class Chunk:
    path: str
    language: str
    kind: str
    symbol: str
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    text: str
    names: str = ""  # other names declared in the chunk (macros, typedefs, ...), space-separated
    cell: int = -1  # a notebook's cell index (lines count from the cell's first line), else -1

    def label(self) -> str:
        return f"{self.kind} {self.symbol}".strip() if self.symbol else self.kind

    def embedding_text(self) -> str:
        """What the model reads: the kind and symbol with the symbol's words (a name carries
        much of a function's meaning), then the chunk (its doc comment first). The path only
        where there is no symbol: on named chunks its words are the same for every chunk of a
        file and blur them (bench_search.py: MRR 0.509 -> 0.529 on Python, 0.321 -> 0.333 on
        C, functions only); the full-text index has the path's words anyway. Abbreviations
        among the symbol's words are spelled out (`ndim` -> "ndim number dimensions")."""
        if not self.symbol:
            return f"{self.path} · {self.kind}\n{self.text}"
        plain = re.sub(r"[.:]+", " ", self.symbol)
        words = " ".join(spelled_out(split_identifier(plain.replace(" ", "_"))))
        head = self.label()
        if words and words != " ".join(plain.lower().split()):
            head += f" ({words})"
        return f"{head}\n{self.text}"

    def terms(self) -> str:
        """What the full-text index reads: path, symbol (twice: a name match counts), the
        other declared names and the text, as code-aware words (see terms.py)."""
        symbol = " ".join(terms(self.symbol))
        return " ".join(
            [
                " ".join(terms(self.path)),
                symbol,
                symbol,
                " ".join(terms(self.names)),
                " ".join(terms(self.text)),
            ]
        )


# -- languages -----------------------------------------------------------------------------
# Other text files still get a language name (for filters) and the fallback chunker.

_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "fortran": ("tree_sitter_fortran", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "markdown": ("tree_sitter_markdown", "language"),
}


@cache
def _parser(language: str) -> Any | None:
    grammar = _GRAMMARS.get(language)
    if grammar is None:
        return None
    import tree_sitter

    try:
        module = importlib.import_module(grammar[0])
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(getattr(module, grammar[1])()))


# -- symbol names ----------------------------------------------------------------------------
def _text(node: Any) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None else ""


def _field_name(node: Any) -> str | None:
    name = node.child_by_field_name("name")
    return _text(name) if name is not None else None


_C_NAME_NODES = frozenset(
    {
        "identifier",
        "field_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "type_identifier",
    }
)
# a name that swallowed what a macro before it hid from the grammar: `detail::type_info
# *get_type_info(...)` after `PYBIND11_NOINLINE`; the name is the word before `(`
_CALLED = re.compile(r"(~?[A-Za-z_]\w*(?:\s*::\s*~?[A-Za-z_]\w*)*)\s*\(")


def _inner_declarator(node: Any) -> Any:
    """The declarator inside `node`: its `declarator` field, or (C++ `T &f()`, `T &&f()`,
    whose reference declarators have no such field) its first declarator child."""
    inner = node.child_by_field_name("declarator")
    if inner is None and node.type in ("reference_declarator", "rvalue_reference_declarator"):
        inner = next(
            (
                c
                for c in node.named_children
                if c.type.endswith("declarator") or c.type in _C_NAME_NODES
            ),
            None,
        )
    return inner


def _declarator_name(node: Any) -> str | None:
    """C/C++: follow `declarator` fields down to the identifier (through pointers, etc.)."""
    current = _inner_declarator(node)
    while current is not None:
        if current.type in _C_NAME_NODES:
            name = _text(current)
            if current.type != "operator_name" and ("(" in name or "\n" in name):
                found = _CALLED.search(name)
                name = re.sub(r"\s+", "", found.group(1)) if found else name.split("(")[0]
            return name.strip() or None
        current = _inner_declarator(current)
    return None


def _fortran_name(node: Any) -> str | None:
    for child in node.named_children:
        if child.type.endswith("_statement"):
            for part in child.named_children:
                if part.type == "name":
                    return _text(part)
            return None
    return None


def _markdown_heading(node: Any) -> str | None:
    for child in node.named_children:
        if child.type in ("atx_heading", "setext_heading"):
            for part in child.named_children:
                if part.type in ("inline", "paragraph"):
                    return _text(part).strip()
    return None


def _python_decorated(node: Any) -> tuple[str, str | None]:
    inner = node.child_by_field_name("definition")
    kind = "class" if inner is not None and inner.type == "class_definition" else "function"
    return kind, _field_name(inner) if inner is not None else None


@dataclass(frozen=True)
class Spec:
    defs: dict[str, str]  # node type -> kind
    name: Callable[[Any], str | None] = _field_name
    classes: frozenset[str] = frozenset()  # kinds whose function children are methods
    # node types that count as a definition only when this says so (JS `const f = () => ...`)
    conditional: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    # kinds whose insides are not searched for nested definitions (a typedef's struct)
    leaves: frozenset[str] = frozenset()


_FUNCTION_VALUES = ("arrow_function", "function_expression", "function", "generator_function")
_JS = Spec(
    defs={
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "class_declaration": "class",
        "abstract_class_declaration": "class",
        "method_definition": "function",
        "interface_declaration": "interface",
        "type_alias_declaration": "type",
        "enum_declaration": "enum",
        "variable_declarator": "function",
        "module": "namespace",
        "internal_module": "namespace",
    },
    classes=frozenset({"class"}),
    conditional={
        "variable_declarator": lambda n: (
            n.child_by_field_name("value") is not None
            and n.child_by_field_name("value").type in _FUNCTION_VALUES
        )
    },
)
_C_LIKE_DEFS = {
    "function_definition": "function",
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
    "declaration": "declaration",
    "preproc_function_def": "macro",
    "preproc_def": "macro",
    "type_definition": "typedef",
}
# where a declaration is one of the file's own (not a local of a function body)
_C_DECLARATION_PARENTS = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
        "declaration_list",
        "linkage_specification",
    }
)


def _has_body(node: Any) -> bool:
    """`struct s {...}` defines; `struct s *p` in a parameter only names it."""
    return node.child_by_field_name("body") is not None


def _is_prototype(node: Any) -> bool:
    """`int f(void);` at file (or namespace, extern "C") level: a function's declaration."""
    parent = node.parent
    if parent is None or not (
        parent.type in _C_DECLARATION_PARENTS or (parent.type == "ERROR" and parent.parent is None)
    ):  # a file the grammar half-parsed
        return False
    current = node.child_by_field_name("declarator")
    while current is not None:
        if current.type == "function_declarator":
            return True
        current = current.child_by_field_name("declarator")
    return False


def _is_worth_a_chunk(node: Any) -> bool:
    """A macro gets a chunk of its own when it is documented or longer than a line; the
    many one-line `#define X 1` stay in their module chunk, which lists their names."""
    return node.end_point.row > node.start_point.row + 1 or _leading_comment(node) is not None


def _typedef_kind(node: Any) -> str:
    inner = node.child_by_field_name("type")
    if (
        inner is not None
        and inner.type in ("struct_specifier", "union_specifier", "enum_specifier")
        and _has_body(inner)
    ):
        return inner.type.split("_")[0]
    return "typedef"


_C_LIKE_CONDITIONS: dict[str, Callable[[Any], bool]] = {
    "struct_specifier": _has_body,
    "union_specifier": _has_body,
    "enum_specifier": _has_body,
    "class_specifier": _has_body,
    "declaration": _is_prototype,
    "preproc_def": _is_worth_a_chunk,
    "preproc_function_def": _is_worth_a_chunk,
}
_C_NAME = lambda n: _field_name(n) or _declarator_name(n)  # noqa: E731
SPECS: dict[str, Spec] = {
    "python": Spec(
        defs={
            "function_definition": "function",
            "class_definition": "class",
            "decorated_definition": "decorated",
        },
        classes=frozenset({"class"}),
    ),
    "c": Spec(
        defs=_C_LIKE_DEFS,
        name=_C_NAME,
        conditional=_C_LIKE_CONDITIONS,
        leaves=frozenset({"typedef", "declaration", "macro"}),
    ),
    "cpp": Spec(
        defs={**_C_LIKE_DEFS, "class_specifier": "class", "namespace_definition": "namespace"},
        name=_C_NAME,
        classes=frozenset({"class", "struct"}),
        conditional=_C_LIKE_CONDITIONS,
        leaves=frozenset({"typedef", "declaration", "macro"}),
    ),
    "fortran": Spec(
        defs={
            "program": "program",
            "module": "module",
            "submodule": "module",
            "subroutine": "subroutine",
            "function": "function",
            "module_procedure": "procedure",
            "derived_type_definition": "type",
            "interface": "interface",
        },
        name=_fortran_name,
    ),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "markdown": Spec(defs={"section": "section"}, name=_markdown_heading),
}


# -- the definition tree ---------------------------------------------------------------------
@dataclass
class _Def:
    node: Any
    kind: str
    symbol: str
    children: list[_Def]
    lead: int | None = None  # first row of the doc comment above it, if any

    @property
    def start(self) -> int:  # a template's or decorator's lines belong to the definition
        return _outermost(self.node).start_point.row if self.lead is None else self.lead

    @property
    def end(self) -> int:  # exclusive row
        end = self.node.end_point
        start = self.node.start_point.row
        return end.row + 1 if end.column > 0 or end.row == start else end.row


_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
# nodes that wrap a definition: its doc comment sits before the wrapper
_WRAPPERS = frozenset(
    {
        "export_statement",
        "template_declaration",
        "decorated_definition",
        "ambient_declaration",
        "linkage_specification",
    }
)
# what a wrapper holds before the definition it wraps: `template <...>`, `extern "C"`
_WRAPPER_HEADS = frozenset({"template_parameter_list", "string_literal"})


def _outermost(node: Any) -> Any:
    """The wrappers around a definition, outermost (`template <class T> ...`, `export ...`,
    `extern "C" ...`), or the node itself."""
    while (
        node.parent is not None
        and node.parent.type in _WRAPPERS
        and (node.prev_named_sibling is None or node.prev_named_sibling.type in _WRAPPER_HEADS)
    ):
        node = node.parent
    return node


def _leading_comment(node: Any) -> int | None:
    """The first row of the comment block right above `node` (no blank line between, not a
    trailing comment of the line before), or None."""
    anchor = _outermost(node)
    row = anchor.start_point.row
    lead = None
    prev = anchor.prev_named_sibling
    while prev is not None and prev.type in _COMMENTS and prev.end_point.row >= row - 1:
        before = prev.prev_named_sibling
        if before is not None and before.end_point.row == prev.start_point.row:
            break  # `x = 1;  // note`: that comment belongs to the line it ends
        row = lead = prev.start_point.row
        prev = before
    return lead


def _collect(root: Any, spec: Spec) -> list[_Def]:
    """The definitions under `root`, nested as in the source (iterative: deep expression
    trees, such as minified code, would overflow Python's recursion limit)."""
    top: list[_Def] = []
    stack: list[tuple[Any, _Def | None, list[_Def]]] = [
        (child, None, top) for child in reversed(root.named_children)
    ]
    while stack:
        child, parent, out = stack.pop()
        kind = spec.defs.get(child.type)
        if (
            kind is not None
            and child.type in spec.conditional
            and not spec.conditional[child.type](child)
        ):
            kind = None
        if kind is None:
            stack.extend((grand, parent, out) for grand in reversed(child.named_children))
            continue
        body = child
        if kind == "decorated":  # the decorators belong to the definition's chunk
            kind, name = _python_decorated(child)
            body = child.child_by_field_name("definition") or child
        else:
            name = spec.name(child)
        if kind == "typedef":
            kind = _typedef_kind(child)
        if kind in ("function", "procedure") and parent is not None and parent.kind in spec.classes:
            kind = "method"
        if parent is not None and name and parent.symbol and parent.kind != "section":
            symbol = f"{parent.symbol}.{name}"
        else:
            symbol = name or ""
        definition = _Def(child, kind, symbol, [], _leading_comment(child))
        out.append(definition)
        if kind not in spec.leaves and spec.defs.get(child.type) not in spec.leaves:
            stack.extend(
                (grand, definition, definition.children) for grand in reversed(body.named_children)
            )
    return top


# -- chunking --------------------------------------------------------------------------------
# Macros the C/C++ grammars cannot see through, blanked (same length: lines and columns stay)
# before parsing: an all-caps word before a definition's keywords or type (`PYBIND11_NOINLINE
# static ...`, `ZSTDLIB_API size_t ...`), and a line that is only an all-caps macro call, with
# no `;` (`PYBIND11_DEPRECATED("...")` above a method, `PYBIND11_OBJECT(...)` in a class). The
# chunks keep the source's own text.
_PREFIX_MACRO = re.compile(
    r"^([ \t]*)([A-Z][A-Z0-9_]{3,})(?=[ \t]+(?:static|inline|virtual|explicit|constexpr|extern|"
    r"friend|template|void|bool|int|long|short|char|float|double|unsigned|signed|const|auto|"
    r"size_t|class|struct|enum|typename|std::)\b)",
    re.MULTILINE,
)
_MACRO_LINE = re.compile(r"^[ \t]*[A-Z][A-Z0-9_]{3,}\([^;{}\n]*\)[ \t]*$", re.MULTILINE)


def _unmacro(text: str) -> str:
    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    def blank_word(match: re.Match[str]) -> str:
        return match.group(1) + " " * len(match.group(2))

    return _MACRO_LINE.sub(blank, _PREFIX_MACRO.sub(blank_word, text))


def parse(text: str, language: str) -> Any | None:
    """The tree-sitter tree of `text`, or None: no grammar, a grammar failure, or a parse that
    is mostly errors (wrong dialect, not really this language)."""
    parser = _parser(language)
    if parser is None:
        return None
    try:
        source = _unmacro(text) if language in ("c", "cpp") else text
        tree = parser.parse(source.encode("utf-8"))
    except Exception:  # a grammar failure must not lose the file
        return None
    return None if _mostly_errors(tree.root_node, text.count("\n") + 1) else tree


def chunk_file(path: str, text: str, language: str | None = None, tree: Any = None) -> list[Chunk]:
    """Chunks of one file (an empty list for an empty or whitespace-only file). `tree`: the
    file's `parse()` when the caller has it already."""
    language = language or language_of(path, text)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return []
    if language == "notebook":
        cells = notebook_cells(text)
        if cells is not None:
            return [
                chunk
                for i, (cell_language, source) in enumerate(cells)
                for chunk in _cell_chunks(path, i, cell_language, source)
            ]
    tree = tree if tree is not None else parse(text, language)
    if tree is not None:
        defs = _collect(tree.root_node, SPECS[language])
        source = _Source(path, language, lines, _declared_names(tree.root_node))
        chunks = list(_chunks_of(source, defs))
        if path.endswith(".pyi"):  # a stub declares what a .py file defines
            for chunk in chunks:
                if chunk.kind in ("function", "method", "class"):
                    chunk.kind = "declaration"
        return chunks
    return list(fallback_chunks(path, language, lines))


def notebook_cells(text: str) -> list[tuple[str, str]] | None:
    """A notebook's cells as (language, source): code in the kernel's language, markdown as
    markdown; outputs are left out (they are results, often huge, and a search that finds its
    own output is no help). None when `text` is not a notebook."""
    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
        meta = notebook.get("metadata") or {}
        kernel = (
            (meta.get("kernelspec") or {}).get("language")
            or (meta.get("language_info") or {}).get("name")
            or "python"
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(cells, list):
        return None
    found: list[tuple[str, str]] = []
    for cell in cells:
        if not isinstance(cell, dict):
            found.append(("text", ""))
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            source = ""
        kind = cell.get("cell_type")
        language = (
            str(kernel).lower() if kind == "code" else "markdown" if kind == "markdown" else "text"
        )
        found.append(
            (language if language in SPECS or language in ("markdown", "text") else "text", source)
        )
    return found


def _cell_chunks(path: str, index: int, language: str, source: str) -> list[Chunk]:
    """One cell's chunks: lines count from the cell's first line; the cell's index says which."""
    chunks = chunk_file(path, source, language if language != "text" else "text")
    for chunk in chunks:
        chunk.cell = index
        chunk.language = language
    return chunks


def _mostly_errors(root: Any, line_count: int) -> bool:
    """A parse that is mostly ERROR nodes (wrong dialect, not really this language)."""
    if not root.has_error:
        return False
    bad = sum(c.end_point.row - c.start_point.row + 1 for c in root.children if c.type == "ERROR")
    return bad > line_count / 2


# what declares a name at file level, and where its name is
_NAMED = {
    "preproc_def": "name",
    "preproc_function_def": "name",
    "type_definition": "declarator",
    "declaration": "declarator",
    "init_declarator": "declarator",
    "variable_declarator": "name",
    "assignment": "left",
}
# no names are looked for inside these (locals of a function are not the file's names)
_BODIES = frozenset(
    {
        "function_definition",
        "compound_statement",
        "block",
        "statement_block",
        "class_body",
        "field_declaration_list",
        "function_body",
    }
)


def _declared_names(root: Any) -> dict[int, list[str]]:
    """Row -> the names declared on it outside function bodies: macros, typedefs, globals,
    prototypes, module-level assignments. A module chunk lists the ones it holds."""
    found: dict[int, list[str]] = {}
    stack = list(root.named_children)
    while stack:
        node = stack.pop()
        if node.type in _BODIES:
            continue
        field_name = _NAMED.get(node.type)
        if field_name is not None:
            target = node.child_by_field_name(field_name)
            while target is not None and target.type not in (
                "identifier",
                "type_identifier",
                "field_identifier",
            ):
                target = target.child_by_field_name("declarator")
            if target is not None:
                found.setdefault(target.start_point.row, []).append(_text(target))
        stack.extend(node.named_children)
    return found


@dataclass
class _Source:
    path: str
    language: str
    lines: list[str]
    names: dict[int, list[str]]  # row -> names declared there (see _declared_names)


def _chunks_of(src: _Source, defs: list[_Def]) -> Iterator[Chunk]:
    # Module-level code: the lines outside every top-level definition.
    yield from _runs(src, "module", "", 0, len(src.lines), defs)
    for definition in defs:
        yield from _def_chunks(src, definition)


def _def_chunks(src: _Source, d: _Def) -> Iterator[Chunk]:
    if d.children and d.kind in FUNCTION_KINDS and _fits(src.lines, d.start, d.end):
        # a short function with closures inside is one passage: its body cut around them
        # would read as neither (bench_search.py, Python: tune MRR 0.638 -> 0.645, held-out
        # 0.586 -> 0.580: noise; the hit shows the whole function)
        yield from _windows(src.path, src.language, d.kind, d.symbol, src.lines, d.start, d.end)
        return
    yield from _runs(src, d.kind, d.symbol, d.start, d.end, d.children, keep_footers=False)
    for child in d.children:
        yield from _def_chunks(src, child)


def _fits(lines: list[str], start: int, end: int) -> bool:
    """Whether rows [start, end) make one chunk within the budget."""
    return end - start <= MAX_LINES and sum(len(line) + 1 for line in lines[start:end]) <= MAX_CHARS


def _runs(
    src: _Source,
    kind: str,
    symbol: str,
    start: int,
    end: int,
    holes: list[_Def],
    keep_footers: bool = True,
) -> Iterator[Chunk]:
    """Chunks for rows [start, end) minus the rows of nested definitions (`holes`).

    A container's short runs after its header (`}`, `end module orbit`) are not worth a
    chunk of their own unless `keep_footers`.
    """
    covered: set[int] = set()
    for hole in holes:
        covered.update(range(max(hole.start, start), min(hole.end, end)))
    run: list[int] = []
    first = True
    lines = src.lines
    for row in range(start, end + 1):
        if row < end and row not in covered:
            run.append(row)
            continue
        content = [lines[r] for r in run if lines[r].strip()]
        if content and (
            first or keep_footers or not all(_FOOTER.fullmatch(line) for line in content)
        ):
            yield from _windows(
                src.path,
                src.language,
                kind,
                symbol,
                lines,
                run[0],
                run[-1] + 1,
                src.names if kind == "module" else None,
            )
        if run:
            first = False
        run = []


def _windows(
    path: str,
    language: str,
    kind: str,
    symbol: str,
    lines: list[str],
    start: int,
    end: int,
    names: dict[int, list[str]] | None = None,
) -> Iterator[Chunk]:
    """Rows [start, end) as one chunk, or as overlapping windows if over the budget.
    `names`: the declared names by row, for the chunks to list."""
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    if start >= end:
        return
    first = start
    while first < end:
        last = first
        size = 0
        while (
            last < end
            and last - first < MAX_LINES
            and (size + len(lines[last]) <= MAX_CHARS or last == first)
        ):
            size += len(lines[last]) + 1
            last += 1
        text = "\n".join(lines[first:last])
        if len(text) > MAX_CHARS * 2:  # one enormous line (minified code, data)
            text = text[: MAX_CHARS * 2]
        held = (
            " ".join(
                dict.fromkeys(
                    n for r in range(first, last) for n in names.get(r, ()) if n != symbol
                )
            )
            if names
            else ""
        )
        yield Chunk(path, language, kind, symbol, first + 1, last, text, held)
        if last >= end:
            return
        # overlap a few lines, but always advance by at least three quarters of the window
        first = last - min(OVERLAP, (last - first) // 4)


def fallback_chunks(path: str, language: str, lines: list[str]) -> Iterator[Chunk]:
    """Paragraphs (blank-line separated) packed into chunks within the budget."""
    kind = "section" if language in ("markdown", "rst", "text") else "block"
    block_start: int | None = None
    size = 0
    row = 0
    for row, line in enumerate(lines):
        if block_start is None:
            if line.strip():
                block_start, size = row, 0
            else:
                continue
        size += len(line) + 1
        ends_paragraph = not line.strip()
        if (
            (ends_paragraph and (size >= MAX_CHARS // 2 or row - block_start >= MAX_LINES // 2))
            or size >= MAX_CHARS
            or row - block_start + 1 >= MAX_LINES
        ):
            yield from _windows(path, language, kind, "", lines, block_start, row + 1)
            block_start = None
    if block_start is not None:
        yield from _windows(path, language, kind, "", lines, block_start, row + 1)
