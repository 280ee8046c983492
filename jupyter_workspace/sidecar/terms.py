"""Code-aware words for the full-text index: identifiers split into the words they are made of.

`Crypto_TC_ApplySecurity` is written by someone who means "crypto", "tc", "apply", "security";
`GetPipeName` means "get pipe name". A general-purpose tokenizer keeps camelCase and PascalCase
whole, so a question in words never meets the name that carries the code's meaning. Here every
identifier gives its parts (snake_case, camelCase, PascalCase, acronyms, digits) and, when it
has more than one, itself whole, all in lower case. The full-text index then stems the words
and drops stop words (LanceDB's tokenizer, on white space), on the chunks and on the queries
alike. Common abbreviations are spelled out beside themselves (`ndim` gives "number
dimensions", `buf` "buffer"): bench_search.py C++ MRR@10 0.370 -> 0.405 (with the symbol's
words spelled out for the model too, 0.416), C 0.712 -> 0.720, Python unchanged.
"""

from __future__ import annotations

import re

# a word: letters, digits and underscores (identifiers, numbers, plain words)
_WORD = re.compile(r"[^\W_]+(?:_+[^\W_]+)*|_+[^\W_]+", re.UNICODE)
# boundaries inside an identifier: between lower/digit and upper (getPipe), between an acronym
# and a capitalised word (HTTPServer -> HTTP Server), between letters and digits (sha256sum)
_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|"
    r"(?<=\d)(?=[A-Za-z])"
)
MAX_TERM = 40  # LanceDB's tokenizer drops longer tokens anyway
# what programmers shorten, spelled out: `ndim` is "number of dimensions" to whoever asks, `buf`
# a "buffer". General programming words only (no project's own acronyms).
ABBREVIATIONS = {
    "addr": "address",
    "alloc": "allocate",
    "arg": "argument",
    "args": "arguments",
    "attr": "attribute",
    "attrs": "attributes",
    "avg": "average",
    "buf": "buffer",
    "buff": "buffer",
    "calc": "calculate",
    "cb": "callback",
    "cfg": "configuration",
    "cmp": "compare",
    "cnt": "count",
    "conf": "configuration",
    "ctx": "context",
    "cur": "current",
    "curr": "current",
    "dealloc": "deallocate",
    "dest": "destination",
    "dict": "dictionary",
    "dim": "dimension",
    "dims": "dimensions",
    "dst": "destination",
    "elem": "element",
    "elems": "elements",
    "err": "error",
    "fn": "function",
    "func": "function",
    "hdr": "header",
    "idx": "index",
    "impl": "implementation",
    "info": "information",
    "init": "initialize",
    "iter": "iterator",
    "len": "length",
    "lvl": "level",
    "max": "maximum",
    "mem": "memory",
    "mgr": "manager",
    "min": "minimum",
    "msg": "message",
    "nbytes": "number bytes",
    "ndim": "number dimensions",
    "num": "number",
    "obj": "object",
    "param": "parameter",
    "params": "parameters",
    "pkt": "packet",
    "pos": "position",
    "prev": "previous",
    "ptr": "pointer",
    "ref": "reference",
    "req": "request",
    "resp": "response",
    "ret": "return",
    "seq": "sequence",
    "src": "source",
    "stats": "statistics",
    "str": "string",
    "sz": "size",
    "tbl": "table",
    "tmp": "temporary",
    "val": "value",
}


def split_identifier(word: str) -> list[str]:
    """`ZSTD_compressCCtx` -> [zstd, compress, c, ctx]; `HTTPServer2` -> [http, server, 2]."""
    parts: list[str] = []
    for piece in word.split("_"):
        if piece:
            parts.extend(p.lower() for p in _CAMEL.split(piece) if p)
    return parts


def terms(text: str) -> list[str]:
    """The words of `text` for the full-text index, in order: each identifier's parts, then
    the identifier itself (lower case, underscores kept) when it has more than one part."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        parts = split_identifier(word)
        out.extend(p for p in parts if len(p) <= MAX_TERM)
        if len(parts) > 1 and len(word) <= MAX_TERM:
            out.append(word.lower().strip("_"))
        out.extend(w for p in parts if p in ABBREVIATIONS for w in ABBREVIATIONS[p].split())
    return out


def spelled_out(words: list[str]) -> list[str]:
    """`words` with each abbreviation's meaning after it: [get, buf] -> [get, buf, buffer]."""
    out: list[str] = []
    for w in words:
        out.append(w)
        if w in ABBREVIATIONS:
            out.extend(ABBREVIATIONS[w].split())
    return out


def is_identifier_like(word: str) -> bool:
    """A token that reads as code: has an underscore, inner capitals or letters and digits."""
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word)) and (
        "_" in word.strip("_")
        or bool(re.search(r"[a-z][A-Z]|[A-Z]{2,}[a-z]", word))
        or bool(re.search(r"[A-Za-z]\d|\d[A-Za-z]", word))
    )


def identifiers(query: str) -> list[str]:
    """The code-like names a query holds (`Crypto_TC_ApplySecurity`, `getPipeName`,
    `nav.Kalman::gain` gives `gain` too), in order, without repeats."""
    found: list[str] = []
    for raw in re.findall(r"[A-Za-z_][\w.:]*\w(?:\(\))?|[A-Za-z_]\w*(?:\(\))?", query):
        qualified = "::" in raw or raw.endswith("()") or re.search(r"\w\.\w", raw)
        for word in re.split(r"\.|::", raw.removesuffix("()")):
            if (
                word
                and (is_identifier_like(word) or (qualified and len(word) > 2))
                and word not in found
                and re.fullmatch(r"[A-Za-z_]\w*", word)
            ):
                found.append(word)
    return found
