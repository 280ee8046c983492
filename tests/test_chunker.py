"""The chunker: symbols, kinds and 1-based inclusive line ranges for each language."""

from pathlib import Path

import pytest

from jupyter_workspace.sidecar import chunker
from jupyter_workspace.sidecar.chunker import chunk_file, language_of

FIXTURES = Path(__file__).parent / "fixtures" / "code"

EXPECTED = {
    "attitude.py": [
        ("module", "", 1, 4), ("class", "Estimator", 7, 10),
        ("method", "Estimator.update", 12, 14), ("method", "Estimator.wrap", 16, 18),
        ("function", "quaternion_norm", 21, 23)],
    "pid.c": [
        ("module", "", 1, 3), ("struct", "pid_state", 5, 8), ("function", "clamp", 10, 13),
        ("function", "pid_step", 15, 21)],
    "kalman.cpp": [
        ("module", "", 1, 1), ("namespace", "nav", 3, 3), ("class", "nav.Kalman", 5, 6),
        ("class", "nav.Kalman", 8, 13), ("method", "nav.Kalman.predict", 7, 7),
        ("function", "nav.Kalman::gain", 15, 15)],
    "orbit.f90": [
        ("module", "orbit", 1, 4), ("function", "orbit.period", 5, 9),
        ("subroutine", "orbit.propagate", 11, 15)],
    "telemetry.ts": [
        ("module", "", 1, 1), ("interface", "Packet", 3, 6), ("function", "decode", 8, 10),
        ("function", "checksum", 12, 13), ("class", "Decoder", 15, 15),
        ("class", "Decoder", 19, 20), ("method", "Decoder.push", 16, 18)],
    "ground.js": [
        ("module", "", 1, 1), ("module", "", 16, 16), ("function", "connect", 3, 5),
        ("class", "Station", 7, 7), ("method", "Station.constructor", 8, 10),
        ("method", "Station.track", 11, 13)],
    "design.md": [
        ("section", "Flight software design", 1, 3), ("section", "Navigation", 5, 7),
        ("section", "Control", 9, 11)],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_symbols_kinds_and_lines(name):
    text = (FIXTURES / name).read_text()
    chunks = chunk_file(name, text)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == EXPECTED[name]
    lines = text.splitlines()
    for c in chunks:
        # the text is exactly the lines it claims, and the language is the file's
        assert c.text == "\n".join(lines[c.start_line - 1:c.end_line])
        assert c.language == language_of(name)


def test_embedding_text_carries_path_and_symbol():
    chunk = chunk_file("nav/attitude.py", (FIXTURES / "attitude.py").read_text())[2]
    assert chunk.embedding_text().startswith("nav/attitude.py · method Estimator.update\n")


def test_a_long_definition_is_split_with_overlap():
    body = "\n".join(f"    x{i} = {i}" for i in range(100))
    chunks = chunk_file("big.py", f"def big():\n{body}\n    return x0\n")
    assert len(chunks) >= 3 and all(c.symbol == "big" and c.kind == "function" for c in chunks)
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 102
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start_line == before.end_line - chunker.OVERLAP + 1  # overlapping windows
        assert before.end_line - before.start_line + 1 <= chunker.MAX_LINES


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


@pytest.mark.parametrize("path,language", [
    ("a/b.F90", "fortran"), ("x.hpp", "cpp"), ("Makefile", "make"), ("x.tsx", "tsx"),
    ("README", "text"), ("run.sh", "shell")])
def test_language_of(path, language):
    assert language_of(path) == language
