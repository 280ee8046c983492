"""Entity mentions in the readable text of a file or note, by rules (no model, no network).

Kinds: `person`, `organisation`, `component`, `file`, `symbol`, and the kinds of the configured
id patterns. `detect.extract` hands over the readable lines (comments in code, all of markdown)
and, for code, the file's lines: what is not comment or string there says what the code names.

What the rules guard against, measured on real C sources (bench/results/entities.md):
- `@word` in a code comment is a documentation command (`@param`, `@par`, `@ref`, a project's
  own Doxygen alias such as `@sideeffect`) or a parameter (`@dstBuffer`), hardly ever a person:
  in code it names a person only where it is not the comment's first word, not a command, and
  not a name the code uses. `@author Jane Doe` does name one.
- An organisation's name has `of` / `and` / `for` inside and may go on after its keyword
  (`National Aeronautics and Space Administration`, `California Institute of Technology`).
- An acronym alone (`HTML`, `JSON`, a licence's capitals) is a component only where the text
  defines it: spelled out beside it (`Inertial Measurement Unit (IMU)`), named as one (`the IMU
  subsystem`), or the code's names start with it (`IMU_read`). Computing's common acronyms
  (`API`, `TLS`, `GCC`) never are, even spelled out; a few agencies' (`NASA`) are organisations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from typing import Any, Protocol

MAX_MENTIONS = 2000  # per file
SNIPPET_CHARS = 200


class Line(Protocol):
    number: int  # 1-based
    text: str


# -- people ----------------------------------------------------------------------------------
PERSON = re.compile(r"(?<![\w@.])@([A-Za-z][\w-]*[A-Za-z0-9])")
# Doxygen's commands, Javadoc's and JSDoc's tags, decorators and linters' pragmas
_DOC_WORDS = """
    a addindex addtogroup anchor arg attention author authors b brief bug c callergraph
    callgraph category cite class code collaborationgraph concept cond copybrief copydetails
    copydoc copyright date def defgroup deprecated details diafile dir directorygraph
    docbookinclude docbookonly dontinclude dot dotfile doxyconfig e else elseif em emoji end
    endcode endcond enddocbookonly enddot endhtmlonly endif endinternal endlatexonly endlink
    endmanonly endmsc endparblock endrtfonly endsecreflist endverbatim enduml endxmlonly enum
    example exception extends f file fileinfo fn groupgraph headerfile hidecallergraph
    hidecallgraph hideinitializer htmlinclude htmlonly idlexcept if ifnot image implements
    include includedoc includelineno ingroup internal invariant interface latexinclude
    latexonly li line lineinfo link mainpage maninclude manonly memberof module msc mscfile n
    name namespace noop nosubgrouping note overload p package page par paragraph param parblock
    post pre private privatesection property protected protectedsection protocol public
    publicsection pure qualifier raisewarning ref refitem related relates relatedalso
    relatesalso remark remarks result return returns retval rtfinclude rtfonly sa secreflist
    section see short showdate showinitializer since skip skipline snippet snippetdoc
    snippetlineno static startuml struct subpage subsection subsubsection tableofcontents test
    throw throws todo tparam typedef union until var verbatim verbinclude version vhdlflow
    warning weakgroup xmlinclude xmlonly xrefitem
    abstract access alias async augments borrows callback constant constructs default
    description event exports external fires function generator global hideconstructor ignore
    inheritdoc inner instance kind lends license listens mixes mixin readonly requires summary
    this tutorial type variation yields serial serialdata serialfield value literal docroot
    linkplain raises raise arguments args parameter parameters usage since sideeffect
    staticmethod classmethod dataclass pytest abstractmethod cached_property contextmanager
    wraps final override
"""
_DOC_COMMANDS = frozenset(_DOC_WORDS.split())
_AUTHOR = re.compile(r"(?<![\w@.])[@\\]authors?\s+(\S.*)")
_ROLE = re.compile(
    r"\b(?:Owners?|Assignee|Assigned to|Authors?|Reviewers?|Lead|Attendees|"
    r"Participants|cc)\s*:\s*(.+)",
    re.IGNORECASE,
)
_NAME = re.compile(r"^@?([A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}|[a-z][\w-]+)$")
_IDENTIFIER_LIKE = re.compile(r"_|[a-z][A-Z]")  # dstBuffer, src_size
_COMMENT_MARKS = " \t/*#!;%-<>'"

# -- organisations ---------------------------------------------------------------------------
_ORG_WORDS = (
    r"(?:Inc|Corp|Corporation|Ltd|LLC|GmbH|Agency|Laboratory|Laboratories|University|"
    r"Institute|Administration|Foundation|Consortium|Association|Society|Council|Commission)"
)
_CAP = r"[A-Z][\w&-]*"
_ORG = re.compile(
    rf"(?<![\w.-])((?:{_CAP}\.?\s+(?:(?:of|and|for|the|&)\s+){{0,2}}){{1,5}}{_ORG_WORDS}\b"
    rf"(?:\s+(?:of|for)\s+(?:the\s+)?{_CAP}(?:\s+{_CAP}){{0,3}})?"
    rf"|{_ORG_WORDS}\s+(?:of|for)\s+(?:the\s+)?{_CAP}(?:\s+{_CAP}){{0,3}}"
    rf"|(?:{_CAP}\s+){{0,3}}{_CAP},\s+(?:Inc|Ltd|LLC|GmbH|Corp)\b)"  # Meta Platforms, Inc.
)
# words a sentence or a copyright line puts before a name
_LEADING = re.compile(
    r"^(?:(?:The|A|An|Our|This|That|Each|Every|By|See|From|At|In|To|With|And|Copyright|"
    r"Thanks|Courtesy|of|and|for|the|&)\s+)+"
)
_AGENCIES = frozenset({"NASA", "ESA", "JPL", "JAXA", "CNES", "DLR", "NOAA", "ISRO"})

# -- components ------------------------------------------------------------------------------
_COMPONENT = re.compile(
    r"\b((?:[A-Z][\w-]*\s+){0,2}[A-Z][\w-]*)\s+(?:subsystem|module|"
    r"component|service|board|unit|controller|driver|library)\b"
)
_ARTICLE = re.compile(r"^(?:The|A|An|Our|This|That|Each|Every)\s+")
_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{2,7})(?![\w-])")
# `Inertial Measurement Unit (IMU)` and `IMU (Inertial Measurement Unit)`
_SPELLED_BEFORE = re.compile(
    r"((?:[A-Z][a-z]+[\s-]+(?:(?:and|of|for|the|&)\s+)?){2,8})\(([A-Z][A-Z0-9]{1,7})\)"
)
_SPELLED_AFTER = re.compile(
    r"\b([A-Z][A-Z0-9]{1,7})\s+\(((?:[A-Z][a-z]+[\s-]*(?:(?:and|of|for|the|&)\s+)?){2,8})\)"
)
_TAGS = ("TODO", "FIXME", "HACK", "XXX", "BUG")
_NOT_ACRONYM_WORDS = """
    NOTE TBD FYI ASAP AND THE FOR NOT NULL TRUE FALSE NONE EOF UTF ASCII ALL ANY BUT WARNING
    ERROR DEBUG INFO OK YES NO TBC WIP NB IMPORTANT DONE AUTHOR ACTION ITEM SEE USE MUST
    SHALL SHOULD MAY WILL NEVER ALWAYS ONLY THIS THAT A AN OUR EACH EVERY
"""
# words in capitals that macros start with, no acronyms
# words in capitals that macros and CMake's commands start with, no acronyms
_MACRO_WORD_LIST = """
    MAX MIN LIKELY UNLIKELY INLINE FORCE STATIC CONST BYTE SWAP PREFETCH DEBUG ASSERT CHECK
    COPY SIZE MEM READ WRITE GET SET IS HAS NEW FREE INIT TEST VERSION SYSTEM STATUS DEFAULT
    OPTIONAL REQUIRED PUBLIC PRIVATE INTERFACE IMPORTED GLOBAL SHARED MODULE TARGET CONFIG
"""
_MACRO_WORDS = frozenset(_MACRO_WORD_LIST.split())
# computing's common acronyms: a technique, format, protocol, standard, tool or piece of
# hardware, not a part of the code at hand, even where it is spelled out
_GENERIC_LIST = """
    API ABI SDK CLI GUI IDE OS CPU GPU RAM ROM MMU DMA IRQ ISR FPU SIMD SSE SSE2 AVX AVX2 NEON
    BMI2 ISA TLS TSS RAII RTTI SFINAE STL GIL JIT IPC RPC HTTP HTTPS URL URI DNS TCP UDP SSL SSH
    FTP HTML CSS XML JSON YAML TOML CSV PDF PNG SVG UTF ASCII BOM CRC MD5 SHA AES RSA HMAC UUID
    GUID EOL LSB MSB LIFO FIFO LRU POSIX ANSI ISO IEEE RFC PEP BSD MIT GPL LGPL GNU GCC MSVC ICC
    NVCC PGI LLVM MINGW CUDA WASM ASAN UBSAN TSAN LTO PGO IPO FAQ README LICENSE COPYING
    CHANGELOG
"""
_GENERIC = frozenset(_GENERIC_LIST.split())
# a language's name before `module` or `library` says what it is written in
_LANGUAGES = frozenset(
    ["Python", "C", "C++", "Rust", "Fortran", "Java", "JavaScript", "TypeScript", "Go", "Ada"]
    + ["MATLAB", "Lua", "Ruby", "Perl", "CMake", "Cython", "NumPy"]
)
_NOT_ACRONYMS = set(_TAGS) | {t + "S" for t in _TAGS} | set(_NOT_ACRONYM_WORDS.split())

# -- files, symbols --------------------------------------------------------------------------
_FILE = re.compile(
    r"(?<![\w/.@-])((?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.(?:py|pyi|c|h|cc|cpp|cxx|"
    r"hpp|hh|f|f90|f95|f03|for|js|mjs|ts|tsx|jsx|md|json|ya?ml|toml|ini|cfg|sh|"
    r"txt|rst|m|java|go|rs|ipynb|adb|ads|cmake|mk))(?![\w/-])"
)
_SYMBOL = re.compile(r"`([A-Za-z_][\w]*(?:(?:\.|::)[A-Za-z_]\w*)*)(?:\(\))?`")

# -- what the code names ---------------------------------------------------------------------
_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


class _Context:
    """What the whole file says, for the rules that look past one line: the acronyms it
    spells out, and the names its code (outside comments and strings) uses."""

    def __init__(self, lines: Sequence[Line], source: list[str] | None) -> None:
        self.lines = lines
        self.source = source or []

    @cached_property
    def code(self) -> str:
        """The source with its readable (comment) parts and its strings blanked."""
        code = list(self.source)
        for line in self.lines:
            if 0 < line.number <= len(code):
                code[line.number - 1] = code[line.number - 1].replace(line.text, " ", 1)
        return _STRING.sub(" ", "\n".join(code))

    @cached_property
    def spelled_out(self) -> set[str]:
        found = set()
        for line in self.lines:
            for m in _SPELLED_BEFORE.finditer(line.text):
                if _initials_match(m.group(2), m.group(1)):
                    found.add(m.group(2))
            for m in _SPELLED_AFTER.finditer(line.text):
                if _initials_match(m.group(1), m.group(2)):
                    found.add(m.group(1))
        return found

    @cached_property
    def code_names(self) -> set[str]:
        return set(_IDENTIFIER.findall(self.code))

    @cached_property
    def namespaces(self) -> set[str]:
        """What the code's names start with before a `_`: `IMU_read` makes IMU a namespace.
        A name alone is not enough: `#pragma GCC`, a `LIKELY(x)` macro."""
        return {n.split("_", 1)[0] for n in self.code_names if "_" in n.strip("_")}

    def defines(self, acronym: str) -> bool:
        return acronym in self.spelled_out or acronym in self.namespaces


def _initials_match(acronym: str, words: str) -> bool:
    """Whether the capitalised words end in ones whose initials spell the acronym's letters."""
    initials = "".join(w[0] for w in re.split(r"[\s-]+", words) if w[:1].isupper())
    letters = "".join(c for c in acronym if c.isalpha())
    return len(letters) >= 2 and initials.endswith(letters)


def find(
    lines: Sequence[Line],
    source: list[str] | None,
    patterns: dict[str, re.Pattern[str]],
    owners: Iterable[tuple[str, int, str]] = (),
) -> list[dict[str, Any]]:
    """The mentions in a file's readable lines, one per (kind, name, line), at most
    MAX_MENTIONS. `source` is a code file's lines (what is not readable in them is code), None
    for markdown; `owners` are the people its tasks name, as (name, line, snippet)."""
    found = list(_mentions(lines, source, patterns))
    for name, line, snippet in owners:  # TODO(owner) names a person too
        if len(found) < MAX_MENTIONS:
            found.append(_mention("person", name, line, snippet))
    return _dedupe(found)[:MAX_MENTIONS]


def _mentions(
    lines: Sequence[Line], source: list[str] | None, patterns: dict[str, re.Pattern[str]]
) -> Iterator[dict[str, Any]]:
    context = _Context(lines, source)
    count = 0
    for line in lines:
        taken: list[tuple[int, int]] = []

        def free(span: tuple[int, int], taken: list[tuple[int, int]] = taken) -> bool:
            if any(a < span[1] and span[0] < b for a, b in taken):
                return False
            taken.append(span)
            return True

        text = line.text
        found: list[tuple[str, str]] = []
        for kind, pattern in patterns.items():
            found += [
                (kind, m.group(0)) for m in pattern.finditer(text) if m.group(0) and free(m.span())
            ]
        found += [("file", m.group(1)) for m in _FILE.finditer(text) if free(m.span(1))]
        found += [("symbol", m.group(1)) for m in _SYMBOL.finditer(text) if free(m.span())]
        found += [("person", name) for name in _people(text, source is not None, context, free)]
        found += [
            ("organisation", name)
            for m in _ORG.finditer(text)
            if " " in (name := _LEADING.sub("", m.group(1)).strip()) and free(m.span(1))
        ]
        found += [
            ("component", name)
            for m in _COMPONENT.finditer(text)
            if not _plain_words(name := _ARTICLE.sub("", m.group(1))) and free(m.span(1))
        ]
        for m in _ACRONYM.finditer(text):
            acronym = m.group(1)
            if _plain_words(acronym) or sum(c.isalpha() for c in acronym) < 2:
                continue
            role = (
                "organisation"
                if acronym in _AGENCIES
                else "component"
                if context.defines(acronym)
                else None
            )
            if role and free(m.span(1)):
                found.append((role, acronym))
        snippet = text.strip()[:SNIPPET_CHARS]
        for kind, name in found:
            yield _mention(kind, name, line.number, snippet)
            count += 1
            if count >= MAX_MENTIONS:
                return


def _plain_words(name: str) -> bool:
    """Whether a would-be component's name is only words that name no part of the code."""
    capitals = [w for w in name.split() if w.isupper()]
    return (
        name.upper() in _NOT_ACRONYMS
        or name in _LANGUAGES
        or any(w in _GENERIC or w in _MACRO_WORDS for w in capitals)
    )


def _people(text: str, in_code: bool, context: _Context, free: Any) -> Iterator[str]:
    for m in PERSON.finditer(text):
        name = m.group(1)
        if name.lower() in _DOC_COMMANDS:
            continue
        if in_code and (
            not text[: m.start()].strip(_COMMENT_MARKS)  # `* @sideeffect ...`: a command
            or _IDENTIFIER_LIKE.search(name)
            or name in context.code_names
        ):
            continue
        if free(m.span()):
            yield name
    if author := _AUTHOR.search(text):
        yield from _names(re.sub(r"<[^>]*>|\([^)]*\)", "", author.group(1)))
    if role := _ROLE.search(text):
        yield from _names(role.group(1))


def _names(listed: str) -> Iterator[str]:
    for name in re.split(r",|\band\b|;", listed):
        n = _NAME.match(name.strip().rstrip("."))
        if n and n.group(1).lower() not in _DOC_COMMANDS:
            yield n.group(1)


def _mention(kind: str, name: str, line: int, snippet: str) -> dict[str, Any]:
    return {"kind": kind, "name": name.strip()[:120], "line": line, "snippet": snippet}


def _dedupe(mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, int]] = set()
    kept = []
    for m in mentions:
        key = (m["kind"], m["name"].casefold(), m["line"])
        if key not in seen:
            seen.add(key)
            kept.append(m)
    return kept
