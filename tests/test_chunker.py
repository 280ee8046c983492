"""The chunker: symbols, kinds and 1-based inclusive line ranges for each language."""

from pathlib import Path

import pytest

from jupyter_workspace.sidecar import chunker
from jupyter_workspace.sidecar.chunker import chunk_file, language_of

FIXTURES = Path(__file__).parent / "fixtures" / "code"

EXPECTED = {
    "attitude.py": [
        ("module", "", 1, 4),
        ("class", "Estimator", 7, 10),
        ("method", "Estimator.update", 12, 14),
        ("method", "Estimator.wrap", 16, 18),
        ("function", "quaternion_norm", 21, 23),
    ],
    "pid.c": [
        ("module", "", 1, 3),
        ("struct", "pid_state", 5, 8),
        ("function", "clamp", 10, 13),
        ("function", "pid_step", 15, 21),
    ],
    "kalman.cpp": [
        ("module", "", 1, 1),
        ("namespace", "nav", 3, 3),
        ("class", "nav.Kalman", 5, 6),
        ("class", "nav.Kalman", 8, 13),
        ("method", "nav.Kalman.predict", 7, 7),
        ("function", "nav.Kalman::gain", 15, 15),
    ],
    "orbit.f90": [
        ("module", "orbit", 1, 4),
        ("function", "orbit.period", 5, 9),
        ("subroutine", "orbit.propagate", 11, 15),
    ],
    "telemetry.ts": [
        ("module", "", 1, 1),
        ("interface", "Packet", 3, 6),
        ("function", "decode", 8, 10),
        ("function", "checksum", 12, 13),
        ("class", "Decoder", 15, 15),
        ("class", "Decoder", 19, 20),
        ("method", "Decoder.push", 16, 18),
    ],
    "ground.js": [
        ("module", "", 1, 1),
        ("module", "", 16, 16),
        ("function", "connect", 3, 5),
        ("class", "Station", 7, 7),
        ("method", "Station.constructor", 8, 10),
        ("method", "Station.track", 11, 13),
    ],
    "design.md": [
        ("section", "Flight software design", 1, 3),
        ("section", "Navigation", 5, 7),
        ("section", "Control", 9, 11),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_symbols_kinds_and_lines(name):
    text = (FIXTURES / name).read_text()
    chunks = chunk_file(name, text)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == EXPECTED[name]
    lines = text.splitlines()
    for c in chunks:
        # the text is exactly the lines it claims, and the language is the file's
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
        assert c.language == language_of(name)


def test_embedding_text_carries_the_symbol_and_its_words():
    chunks = chunk_file("nav/attitude.py", (FIXTURES / "attitude.py").read_text())
    assert chunks[2].embedding_text().startswith("method Estimator.update\n")
    # a chunk without a symbol says where it is
    assert chunks[0].embedding_text().startswith("nav/attitude.py · module\n")
    c = chunk_file("q.c", "int OS_QueueGetName(int id) { return id; }\n")[0]
    # the symbol's words, which a question uses, are read too
    assert c.embedding_text().startswith("function OS_QueueGetName (os queue get name)\n")
    assert "q" in c.terms().split()  # the path's words are in the full-text column
    assert "queue" in c.terms().split() and "os_queuegetname" in c.terms().split()


def test_a_long_definition_is_split_with_overlap():
    body = "\n".join(f"    x{i} = {i}" for i in range(100))
    chunks = chunk_file("big.py", f"def big():\n{body}\n    return x0\n")
    assert len(chunks) >= 3 and all(c.symbol == "big" and c.kind == "function" for c in chunks)
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 102
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start_line == before.end_line - chunker.OVERLAP + 1  # overlapping windows
        assert before.end_line - before.start_line + 1 <= chunker.MAX_LINES


def test_windows_of_long_lines_advance_by_most_of_their_length():
    """83 lines of ~250 characters: each window holds few lines, and must not creep forward
    one line at a time (63-67, 64-68, ... flooded the results)."""
    body = "\n".join(f"    x{i} = '{'w' * 240}'" for i in range(83))
    chunks = chunk_file("long.py", f"def long_lines():\n{body}\n")
    for before, after in zip(chunks, chunks[1:], strict=False):
        size = before.end_line - before.start_line + 1
        assert after.start_line - before.start_line >= max(1, size * 3 // 4), (before, after)
    assert chunks[-1].end_line == 84


C_DOCUMENTED = """\
/* Copyright: a licence header, separated by a blank line. */

#include <stdint.h>

#define QUEUE_MAX 16
#define QUEUE_NAME_LEN 20

/**
 * @brief Return the name of a queue given its id.
 * @param id the queue's id
 */
const char *OS_QueueGetName(int id);

int OS_QueueCount(void);  /* undocumented, trailing comment */

/** Largest payload of a packet, in bytes. */
#define PKT_MAX_PAYLOAD 1024

/* Copy a packet, byte by byte,
   checking the length first. */
#define PKT_COPY(dst, src, n) \\
    do { memcpy((dst), (src), (n)); } while (0)

typedef struct {
    int length;   /* total length */
    char data[PKT_MAX_PAYLOAD];
} Packet_t;

typedef unsigned int Count_t;

// Set the total length of a packet.
// The length covers the header.
void PKT_SetLength(Packet_t *p, int length)
{
    p->length = length;
}
"""


def test_c_doc_comments_belong_to_what_they_document_and_declarations_are_named():
    chunks = chunk_file("os/queue.h", C_DOCUMENTED, "c")
    by_symbol = {c.symbol: c for c in chunks}
    proto = by_symbol["OS_QueueGetName"]
    assert (proto.kind, proto.start_line, proto.end_line) == ("declaration", 8, 12)
    assert proto.text.startswith("/**") and "Return the name of a queue" in proto.text
    assert by_symbol["OS_QueueCount"].kind == "declaration"
    assert "undocumented" in by_symbol["OS_QueueCount"].text
    macro = by_symbol["PKT_MAX_PAYLOAD"]
    assert (macro.kind, macro.start_line, macro.end_line) == ("macro", 16, 17)
    copy = by_symbol["PKT_COPY"]
    assert (copy.kind, copy.start_line, copy.end_line) == ("macro", 19, 22)
    packet = by_symbol["Packet_t"]
    assert (packet.kind, packet.start_line, packet.end_line) == ("struct", 24, 27)
    assert "total length" in packet.text
    assert by_symbol["Count_t"].kind == "typedef"
    fn = by_symbol["PKT_SetLength"]
    assert (fn.kind, fn.start_line, fn.end_line) == ("function", 31, 36)
    assert fn.text.startswith("// Set the total length of a packet.")
    # what is left at file level: the licence, the include and the one-line macros, which the
    # chunk names (no doc comment ends up in it)
    module = [c for c in chunks if c.kind == "module"]
    assert module and all("Return the name" not in c.text for c in module)
    assert set(module[0].names.split()) >= {"QUEUE_MAX", "QUEUE_NAME_LEN"}
    assert module[0].start_line == 1


def test_leading_comments_in_python_js_ts_fortran_and_cpp():
    py = chunk_file(
        "a.py",
        "import os\n\n# Rotate the log files.\n# Keeps n of them.\ndef rotate(n):\n    return n\n",
    )
    assert [(c.symbol, c.start_line) for c in py if c.kind == "function"] == [("rotate", 3)]
    ts = chunk_file(
        "a.ts",
        "const x = 1;\n\n/** Decode a packet. */\n"
        "export function decode(b: string): number {\n  return 1;\n}\n",
    )
    assert [(c.symbol, c.start_line, c.end_line) for c in ts if c.kind == "function"] == [
        ("decode", 3, 6)
    ]
    f90 = chunk_file(
        "o.f90",
        "module orbit\ncontains\n!> Orbital period in seconds.\n"
        "!! Kepler's third law.\nfunction period(a) result(t)\n  real :: a, t\n"
        "  t = a\nend function period\nend module orbit\n",
    )
    period = next(c for c in f90 if c.symbol.endswith("period"))
    assert period.start_line == 3 and "Kepler" in period.text
    cpp = chunk_file(
        "k.cpp", "namespace nav {\n/// Kalman gain.\ndouble gain(double p) { return p; }\n}\n"
    )
    gain = next(c for c in cpp if c.symbol.endswith("gain"))
    assert gain.start_line == 2 and gain.text.startswith("/// Kalman gain.")


CPP_HEADER = """\
#pragma once
#include <vector>

namespace geo {

class Grid {
public:
    /// Number of cells along one axis.
    template <typename T>
    T cells(T axis) const { return axis * scale_; }

    // Mutable access to the cell at (i, j).
    double &at(int i, int j) {
        return data_[i * width_ + j];
    }

private:
    std::vector<double> data_;
    int width_ = 0, scale_ = 1;
};

}  // namespace geo

extern "C" inline int grid_version() { return 3; }
"""


def test_a_cpp_header_named_h_is_cpp_and_its_definitions_carry_what_precedes_them():
    assert language_of("include/geo/grid.h", CPP_HEADER) == "cpp"
    assert (
        language_of(
            "include/osal/queue.h",
            '#ifdef __cplusplus\nextern "C" {\n#endif\nint OS_QueueCreate(int *id);\n',
        )
        == "c"
    )
    assert language_of("include/geo/grid.h") == "c"  # no text: the name alone
    chunks = chunk_file("include/geo/grid.h", CPP_HEADER)
    assert {c.language for c in chunks} == {"cpp"}
    by_symbol = {c.symbol: c for c in chunks if c.kind == "method"}
    # the doc comment and the template line belong to the method, the comment above `T &f()`
    # too (a reference declarator, whose name the grammar does not put in a field)
    cells = by_symbol["geo.Grid.cells"]
    assert (cells.start_line, cells.end_line) == (8, 10)
    assert cells.text.lstrip().startswith("/// Number of cells") and "template" in cells.text
    at = by_symbol["geo.Grid.at"]
    assert (at.start_line, at.end_line) == (12, 15) and "Mutable access" in at.text
    version = next(c for c in chunks if c.symbol == "grid_version")
    assert version.start_line == 24
    # access specifiers alone are not chunks of their own
    assert not [c for c in chunks if c.text.strip() in ("public:", "private:")]


def test_a_name_after_a_macro_the_grammar_cannot_see_through():
    cpp = chunk_file(
        "t.cpp",
        "PROJ_NOINLINE detail::type_info *get_type_info(PyTypeObject *t,\n"
        "                                             bool strict = false) {\n"
        "    return nullptr;\n}\n",
    )
    assert [c.symbol for c in cpp if c.kind == "function"] == ["get_type_info"]


def test_macros_the_grammar_cannot_see_through_do_not_hide_definitions():
    cpp = chunk_file(
        "caster.h",
        "namespace detail {\nclass caster {\npublic:\n"
        "    PROJ_NOINLINE static std::pair<const void *, int>\n"
        "    src_and_type(const void *src, int n) {\n        return {src, n};\n"
        '    }\n\n    PROJ_DEPRECATED("use make() instead")\n'
        "    caster(int value) : v(value) {}\n    int v;\n};\n}\n",
    )
    methods = {c.symbol: (c.start_line, c.end_line) for c in cpp if c.kind == "method"}
    assert methods["detail.caster.src_and_type"] == (4, 7)
    assert "detail.caster.caster" in methods
    # the chunks keep the source's own text, macros included
    assert any("PROJ_NOINLINE static" in c.text for c in cpp)
    c = chunk_file(
        "zstd.c",
        "ZSTDLIB_API size_t ZSTD_compressBound(size_t srcSize);\n"
        "ZSTDLIB_API size_t ZSTD_compressBound(size_t srcSize)\n{\n"
        "    return srcSize + (srcSize >> 8);\n}\n"
        "UINT32 CFE_ES_GetCount(void)\n{\n    return 1;\n}\n",
    )
    assert [(x.kind, x.symbol) for x in c if x.symbol] == [
        ("declaration", "ZSTD_compressBound"),
        ("function", "ZSTD_compressBound"),
        ("function", "CFE_ES_GetCount"),
    ]


def test_a_short_function_with_closures_is_one_chunk():
    source = (
        "def sliced(seq, n):\n    iterator = iter(seq)\n\n    def ret():\n"
        "        return seq[:n]\n\n    return ret()\n"
    )
    chunks = chunk_file("s.py", source)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("function", "sliced", 1, 7)
    ]
    long_body = "".join(f"    x{i} = {i}\n" for i in range(60))
    chunks = chunk_file(
        "l.py",
        "def outer():\n" + long_body + "    def inner():\n        return 1\n    return inner\n",
    )
    assert "outer.inner" in {c.symbol for c in chunks}  # too long for one: cut as before


def test_other_text_falls_back_to_paragraphs():
    text = "\n\n".join(f"paragraph {i}\n" + "words " * 30 for i in range(10))
    chunks = chunk_file("notes/log.txt", text)
    assert chunks and all(c.language == "text" and c.symbol == "" for c in chunks)
    covered = sorted({line for c in chunks for line in range(c.start_line, c.end_line + 1)})
    non_blank = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip()]
    assert set(non_blank) <= set(covered)


def test_unparseable_source_falls_back_instead_of_failing():
    garbage = "\n".join(["}}}} ((( def class :::: <<<<"] * 30)
    chunks = chunk_file("broken.py", garbage)
    assert chunks and chunks[0].kind == "block"


def test_one_enormous_line_is_bounded():
    chunks = chunk_file("min.js", "var a=" + "1+" * 100_000 + "1;")
    assert chunks and all(len(c.text) <= chunker.MAX_CHARS * 2 for c in chunks)


def test_empty_and_blank_files_have_no_chunks():
    assert chunk_file("empty.py", "") == []
    assert chunk_file("blank.c", "\n\n   \n") == []


@pytest.mark.parametrize(
    "path,language",
    [
        ("a/b.F90", "fortran"),
        ("x.hpp", "cpp"),
        ("Makefile", "make"),
        ("x.tsx", "tsx"),
        ("README", "text"),
        ("run.sh", "shell"),
    ],
)
def test_language_of(path, language):
    assert language_of(path) == language


def test_notebooks_are_chunked_by_cell_without_their_outputs():
    import json

    notebook = {
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": [
            {"cell_type": "markdown", "source": ["# Orbit analysis\n", "The period, in seconds."]},
            {
                "cell_type": "code",
                "source": ["def period(a):\n", "    return a ** 1.5\n"],
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": ["needle_in_the_output\n"] * 500,
                    }
                ],
            },
            {
                "cell_type": "code",
                "source": "%workspace search pid",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {"application/json": {"results": ["needle_in_the_output"]}},
                    }
                ],
            },
        ],
    }
    chunks = chunk_file("analysis.ipynb", json.dumps(notebook, indent=1))
    assert [(c.cell, c.language, c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        (0, "markdown", "section", "Orbit analysis", 1, 2),
        (1, "python", "function", "period", 1, 2),
        (2, "python", "block", "", 1, 1),
    ]
    assert not any("needle_in_the_output" in c.text for c in chunks)
    # not a notebook after all: its text is still indexed
    assert chunk_file("broken.ipynb", "{ not json\nline two\n")[0].cell == -1
