"""Entity mentions found by rules (sidecar/entities.py through detect.extract), on text shaped
like what a newcomer indexed in NASA's CryptoLib (issue 15): Doxygen comments, licence headers,
acronyms."""

from __future__ import annotations

import datetime as dt

from jupyter_workspace.sidecar.detect import extract

TODAY = dt.date(2026, 11, 25)


def mentions(path: str, text: str) -> set[tuple[str, str]]:
    language = "markdown" if path.startswith("@notes/") else None  # as the indexer reads notes
    found = extract(path, text, language, today=TODAY)["mentions"]
    return {(m["kind"], m["name"]) for m in found}


def people(path: str, text: str) -> set[str]:
    return {name for kind, name in mentions(path, text) if kind == "person"}


DOXYGEN_C = """\
/**
 * @brief Processes a telecommand frame.
 * \\brief The same, the other way.
 * @par Example
 * @section tc_process TC processing
 * @sideeffect Updates the security association's sequence number.
 * @param ingest the frame; see @ref Crypto_TC_ApplySecurity
 * @param len_ingest its length in bytes, at most @p len_ingest
 * @return CRYPTO_LIB_SUCCESS, or an error code; @retval 0 when @a ingest is empty
 * @author Jane Doe <jane@example.com>
 **/
int32_t Crypto_TC_ProcessSecurity(uint8_t *ingest, int *len_ingest);
/* Adapted from code first written by @ot (Giuseppe Ottaviano). Uses @ingest_buf too. */
static uint8_t ingest_buf[64];
"""


def test_doxygen_commands_and_parameters_are_not_people():
    assert people("src/crypto_tc.c", DOXYGEN_C) == {"Jane Doe", "ot"}


def test_a_handle_in_a_note_is_still_a_person():
    assert people("@notes/1", "Review with @carol; @param is no one.\n") == {"carol"}


LICENCE_C = """\
/* Copyright (C) 2009 - 2022 National Aeronautics and Space Administration.
   All Foreign Rights are Reserved to the U.S. Government.
   In no event shall NASA be liable for any damages.
   Portions by the California Institute of Technology, under contract with the
   Jet Propulsion Laboratory; see the University of California's licence.
   Copyright (c) Meta Platforms, Inc. and affiliates. */
int x;
"""


def test_organisations_are_kept_whole():
    found = {name for kind, name in mentions("src/core.c", LICENCE_C) if kind == "organisation"}
    assert found == {
        "National Aeronautics and Space Administration",
        "NASA",
        "California Institute of Technology",
        "Jet Propulsion Laboratory",
        "University of California",
        "Meta Platforms, Inc",
    }


ACRONYMS_C = """\
/* Emit the report as HTML or JSON, then hand it to the API.
 * The Inertial Measurement Unit (IMU) rates go through the FSE coder and the
 * Star Tracker subsystem. */
size_t FSE_compress(void *dst, const void *src);
#define LIKELY(x) (x)
/* LIKELY keeps the hot path first. */
"""


def test_acronyms_are_components_only_where_the_code_defines_them():
    components = {n for kind, n in mentions("src/report.c", ACRONYMS_C) if kind == "component"}
    assert components == {"IMU", "FSE", "Star Tracker"}


def test_acronyms_in_a_note_need_spelling_out():
    note = (
        "# Review\nThe ADCS and the HTML report.\n"
        "Attitude Determination and Control System (ADCS) first.\n"
    )
    components = {n for kind, n in mentions("@notes/4", note) if kind == "component"}
    assert components == {"ADCS"}
    assert mentions("@notes/5", "# Review\nThe ADCS and the HTML report.\n") == set()


def test_encodings_and_standards_are_not_ids():
    found = mentions("@notes/6", "Read it as UTF-8 (ISO-8601 dates, SHA-256), as JIRA-345 asks.\n")
    assert found == {("id", "JIRA-345")}


def test_file_names_stay_file_mentions():
    found = mentions("@notes/7", "The bug is in ut_tc_process.c, not in src/core/crypto.c.\n")
    assert found >= {("file", "ut_tc_process.c"), ("file", "src/core/crypto.c")}
