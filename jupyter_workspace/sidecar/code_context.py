"""`POST /code/context`: the definition around some lines of a file, what it calls, and where
given names are called: what a research job reads around a search hit.

The text comes from the coordinator (it read the file); the grammars and the definition tree
are the chunker's (`chunker.parse`, `chunker._collect`), so a definition here has the same
name, kind and lines (its doc comment included) as the index's chunk of it. A language without
a grammar, or a text its grammar cannot parse, has no definition and no calls.
"""

from __future__ import annotations

import re
from typing import Any

from .chunker import SPECS, _collect, _Def, _parser, _text, _unmacro, language_of, parse

MAX_NAMES = 50  # names the request may ask for the calls of
MAX_CALLEES = 100
MAX_CALLS = 200
# what encloses a passage worth reading whole (not a module, a namespace or a markdown section)
ENCLOSING_KINDS = frozenset(
    {"function", "method", "subroutine", "procedure", "program", "class", "struct", "macro"}
)
# the node types that call something, per language (Fortran's `call_expression` is also an
# array element: the coordinator resolves names against known definitions)
CALL_NODES: dict[str, frozenset[str]] = {
    "python": frozenset({"call"}),
    "c": frozenset({"call_expression"}),
    "cpp": frozenset({"call_expression"}),
    "fortran": frozenset({"subroutine_call", "call_expression", "call_statement"}),
    "javascript": frozenset({"call_expression", "new_expression"}),
    "typescript": frozenset({"call_expression", "new_expression"}),
    "tsx": frozenset({"call_expression", "new_expression"}),
}
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_NAME_NODES = frozenset(
    {
        "identifier",
        "field_identifier",
        "property_identifier",
        "type_identifier",
        "name",
        "destructor_name",
    }
)
# where the called name is inside the node that names the callee
_NAME_FIELDS = ("attribute", "field", "property", "name", "constructor")
# a line the C/C++ grammars never see (chunker._unmacro blanks it): an all-caps macro call
_MACRO_CALL = re.compile(r"^[ \t]*([A-Z][A-Z0-9_]{3,})\([^;{}\n]*\)[ \t]*$", re.MULTILINE)


class BadContext(ValueError):
    """The request is malformed (the handler answers 400)."""


def check_request(body: dict[str, Any], max_chars: int) -> tuple[str, str, int, int, list[str]]:
    """(path, text, start_line, end_line, names) of a request, or BadContext saying why."""
    path, text = body.get("path"), body.get("text")
    if not isinstance(path, str) or not path or len(path) > 4096:
        raise BadContext("'path' (the file's name, for its language) is required")
    if not isinstance(text, str):
        raise BadContext("'text' (the file's text) is required")
    if len(text) > max_chars:
        raise BadContext(f"'text' is longer than {max_chars} characters")
    start, end = _line(body.get("start_line")), _line(body.get("end_line"))
    if start is None or end is None or end < start:
        raise BadContext("'start_line' and 'end_line' are lines (1-based), start <= end")
    names = body.get("names", [])
    if names is None:
        names = []
    if (
        not isinstance(names, list)
        or len(names) > MAX_NAMES
        or not all(isinstance(n, str) and 0 < len(n) <= 200 for n in names)
    ):
        raise BadContext(f"'names' is a list of at most {MAX_NAMES} names")
    return path, text, start, end, names


def _line(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10_000_000
    return value if ok else None


def context(
    path: str, text: str, start_line: int, end_line: int, names: list[str] | None = None
) -> dict:
    """The answer to one request (see the module's docstring and the sidecar's route)."""
    language = language_of(path, text)
    empty: dict[str, Any] = {"language": language, "definition": None, "callees": [], "calls": []}
    if language not in CALL_NODES:
        return empty
    tree = _tree(text, language)
    if tree is None:
        return empty
    defs = _flatten(_collect(tree.root_node, SPECS[language]))
    fold = str.lower if language == "fortran" else _same
    found = _enclosing(defs, start_line - 1, end_line)
    calls = _calls(tree.root_node, language, text)
    callees: list[str] = []
    if found is not None:
        rows = range(found.start, found.end)
        seen: set[str] = _variables(found, language)
        for name, row in calls:
            if row in rows and fold(name) not in seen and name != _short(found.symbol):
                seen.add(fold(name))
                callees.append(name)
                if len(callees) >= MAX_CALLEES:
                    break
    wanted = {fold(_short(n)) for n in names or []}
    places = []
    if wanted:
        for name, row in calls:
            if fold(name) in wanted:
                caller = _enclosing(defs, row, row + 1)
                if caller is not None and fold(name) in _variables(caller, language):
                    continue  # Fortran: an array of that name, not a call
                places.append({"name": name, "line": row + 1, "definition": _describe(caller)})
                if len(places) >= MAX_CALLS:
                    break
    return {
        "language": language,
        "definition": _describe(found),
        "callees": callees,
        "calls": places,
    }


def _tree(text: str, language: str) -> Any | None:
    """The chunker's parse; or, where it gives up on a file that is mostly ERROR nodes (a C
    file whose macros confuse the grammar: cffi's `_cffi_backend.c`), the tree anyway: the
    definitions inside the errors still have their names and lines, and a caller is looking
    for one of them."""
    tree = parse(text, language)
    if tree is not None:
        return tree
    parser = _parser(language)
    if parser is None:
        return None
    try:
        source = _unmacro(text) if language in ("c", "cpp") else text
        return parser.parse(source.encode("utf-8"))
    except Exception:  # a grammar failure is no answer, not a failed request
        return None


def _variables(d: _Def, language: str) -> set[str]:
    """Fortran: the names `d` declares as variables or takes as arguments (lower case): `a(i)`
    of one is an array element, not a call. Other languages: none (their calls are calls)."""
    if language != "fortran":
        return set()
    names: set[str] = set()
    stack = [d.node]
    while stack:
        node = stack.pop()
        if node.type in ("variable_declaration", "parameters"):
            for child in node.named_children:
                if child.type != "identifier" and child.named_children:
                    child = child.named_children[0]  # `r(3)`, `x = 1`
                if child.type == "identifier":
                    names.add(_text(child).lower())
        elif node is d.node or node.type not in SPECS[language].defs:
            stack.extend(node.named_children)  # not into nested definitions
    return names


def _same(name: str) -> str:
    return name


def _short(symbol: str) -> str:
    """`Kalman.gain`, `ns::f` -> the name a call uses."""
    return re.split(r"\.|::|%", symbol)[-1] if symbol else ""


def _flatten(defs: list[_Def]) -> list[_Def]:
    out: list[_Def] = []
    stack = list(defs)
    while stack:
        d = stack.pop()
        out.append(d)
        stack.extend(d.children)
    return out


def _enclosing(defs: list[_Def], start: int, end: int) -> _Def | None:
    """The innermost definition (of ENCLOSING_KINDS) whose rows [start, end) hold rows
    [start, end) (0-based, end exclusive)."""
    # a `#define` inside a function is part of it: the function is what to read
    inside = [d for d in defs if d.kind in ENCLOSING_KINDS and d.start <= start and end <= d.end]
    return min(inside, key=lambda d: (d.kind == "macro", d.end - d.start), default=None)


def _describe(d: _Def | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"name": d.symbol, "kind": d.kind, "start_line": d.start + 1, "end_line": d.end}


def _calls(root: Any, language: str, text: str) -> list[tuple[str, int]]:
    """(called name, 0-based row) of every call in the tree, in source order."""
    kinds = CALL_NODES[language]
    found: list[tuple[int, int, str]] = []
    stack = [root]
    while stack:  # iterative: deep expression trees overflow recursion
        node = stack.pop()
        if node.type in kinds:
            name = _callee_name(node)
            if name:
                found.append((node.start_point.row, node.start_point.column, name))
        stack.extend(reversed(node.named_children))
    if language in ("c", "cpp"):  # the macro calls the grammar was not shown
        for match in _MACRO_CALL.finditer(text):
            row = text.count("\n", 0, match.start(1))
            found.append((row, match.start(1) - text.rfind("\n", 0, match.start(1)) - 1, match[1]))
        found.sort()
    return [(name, row) for row, _, name in found]


def _callee_name(call: Any) -> str | None:
    """The short name a call calls: `f(x)` `obj.f(x)` `p->f(x)` `ns::f<T>(x)` `call f(x)`."""
    node = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    if node is None:  # Fortran: no fields, the name is the first named child
        node = next((c for c in call.named_children if c.type != "comment"), None)
    for _ in range(8):
        if node is None:
            return None
        if node.type in _NAME_NODES:
            name = _text(node)
            return name if _IDENTIFIER.fullmatch(name) else None
        inner = None
        for field_name in _NAME_FIELDS:
            inner = node.child_by_field_name(field_name)
            if inner is not None:
                break
        if inner is None and node.named_children:
            # Fortran `obj%method`, other wrappers: the last part names what is called
            inner = node.named_children[-1] if node.type.endswith("member_expression") else None
            if inner is None and node.type in ("qualified_identifier", "scoped_identifier"):
                inner = node.named_children[-1]
        node = inner
    return None
