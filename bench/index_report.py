"""The summary bench_index.py prints after its sections."""

from __future__ import annotations

import os
import sys
from typing import Any

from _harness import median, percentile, table
from index_shared import (
    FILLS,
    FIRST_QUERY,
    MEANING_QUERY,
    MEANING_TARGET,
    N_CHUNKS,
    SCAN_FILES,
    ms,
)


# -- report -------------------------------------------------------------------------------------
def report(res: dict[str, Any], errors: dict[str, str], wall: float) -> None:
    print(f"\nSummary ({wall:.0f} s; python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    rows: list[list[str]] = []
    nan = float("nan")
    if "svc_s" in res:
        chunks, files = res["chunks"], res["files"]
        svc = res["svc"]
        svc_rate, ref_rate = chunks / svc["wait"], chunks / res["ref_s"]
        ratio = svc_rate / ref_rate
        paired = [r[7] / r[5] for r in res["slices"]]
        tok = res.get("tokens")
        rows.append(
            [
                "1 cold index to all vectors: index_files + wait_vectors",
                f"{svc_rate:.1f} chunks/s, {files / svc['wait']:.2f} files/s "
                f"({files} files, {chunks} chunks, {svc['wait']:.1f} s)",
                "",
            ]
        )
        rows.append(
            [
                "1 ... to the last fill() (without wait_vectors' 0.2 s polling)",
                f"{chunks / svc['vectors']:.1f} chunks/s ({svc['vectors']:.1f} s; ratio "
                f"{chunks / svc['vectors'] / ref_rate:.2f}x)",
                "",
            ]
        )
        rows.append(
            [
                "1 baseline: sentence-transformers fp32 encode",
                f"{ref_rate:.1f} chunks/s ({res['ref_s']:.1f} s)",
                "",
            ]
        )
        rows.append(
            [
                "1 ratio IndexService (to wait_vectors) / fp32 encode",
                f"{ratio:.2f}x (per slice {', '.join(f'{p:.2f}' for p in paired)})",
                "≥ 2x " + ("✓" if ratio >= 2 else "✗"),
            ]
        )
        inl = res["inline_s"]
        rows.append(
            [
                "1 same code, inline_embed=∞ (embed, then write once: the previous way)",
                f"{chunks / inl:.1f} chunks/s ({inl:.1f} s; ratio to fp32 "
                f"{chunks / inl / ref_rate:.2f}x); text-first to wait_vectors takes "
                f"{svc['wait'] / inl:.2f}x its time",
                "",
            ]
        )
        rows.append(
            [
                "1 text-first phase: index_files calls alone (all files text-searchable)",
                f"{svc['text']:.2f} s = {files / svc['text']:.0f} files/s, "
                f"{chunks / svc['text']:.0f} chunks/s; first call (16 files, empty index) "
                f"{ms(res['first_call_s'])} ms",
                "",
            ]
        )
        sp, calls = res["spent"], res["calls"]
        rows.append(
            [
                "1 time split (worker overlaps the index_files calls)",
                f"replace {sp.get('replace', 0):.2f} s ({calls.get('replace', 0)} files), "
                f"inline embed {sp.get('embed_inline', 0):.2f} s "
                f"({calls.get('embed_inline', 0)} texts); behind: embed "
                f"{sp.get('embed_behind', 0):.1f} s ({calls.get('embed_behind', 0)} texts), "
                f"fill {sp.get('fill', 0):.2f} s ({calls.get('fill', 0)} files), optimize "
                f"{sp.get('optimize', 0):.2f} s ({calls.get('optimize', 0)} calls, not in "
                f"the totals); chunking alone {res['chunk_only_s']:.2f} s",
                "",
            ]
        )
        if tok:
            rows.append(
                [
                    "1 chunk length (tokens)",
                    f"median {tok[0]:.0f}, {tok[1] * 100:.0f}% truncated at 256",
                    "",
                ]
            )
        if "corpus_fts" in res:
            before, after = res["corpus_fts"]
            frags, indexed, unindexed = res["corpus_fts_state"]
            rows.append(
                [
                    f"1 text half on that index as left ({frags} fragments, FTS "
                    f"{indexed}/{indexed + unindexed} rows)",
                    f"p50 {ms(median(before))} ms → {ms(median(after))} ms after another "
                    f"optimize() ({res['corpus_optimize_s']:.2f} s)",
                    "",
                ]
            )
        target, one = res["one_file"]
        rows.append(
            [
                "1 re-index one edited file in process",
                f"median {ms(median([o[0] for o in one]))} ms ({one[0][2]} chunks, "
                f"{one[0][1]} embedded inline, {one[0][3]} vectors pending after)",
                "",
            ]
        )
    if "marks" in res:
        m = res["marks"]
        st = res.get("e2e_status", {})
        t_work = next((t for t, s in res["states"] if s in ("scanning", "indexing")), 0.0)
        if "all_idle" in m:
            rate = st.get("chunks", 0) / max(1e-9, m["all_idle"] - t_work)
            rows.append(
                [
                    "1 end to end: spawn → idle (every file, every vector)",
                    f"{m['all_idle']:.2f} s ({st.get('files_indexed')} files, "
                    f"{st.get('chunks')} chunks; {rate:.1f} chunks/s from the indexer's "
                    f"start at {t_work:.2f} s)",
                    "",
                ]
            )
        rows.append(
            [
                "1 end to end: spawn → every file written (text-searchable)",
                f"{m.get('written', nan):.2f} s",
                "",
            ]
        )
        rows.append(
            [
                "1/2 milestones (s from spawn)",
                f"/api/status {m.get('api', 0):.2f}, sidecar ready "
                f"{m.get('sidecar', nan):.2f}, search answers 200 "
                f"{m.get('text_200', nan):.2f}, indexer indexing "
                f"{m.get('indexing', nan):.2f}, first file indexed "
                f"{m.get('first_file', nan):.2f}",
                "",
            ]
        )
        rows.append(["2 spawn → first text-search hit", f"{m.get('text', nan):.2f} s", ""])
        rows.append(
            [
                "2 spawn → first hybrid-search hit (any: text-first)",
                f"{m.get('hybrid', nan):.2f} s",
                "",
            ]
        )
        rows.append(
            [
                "2 spawn → first vector-search hit (any file)",
                f"{m.get('vector_any', nan):.2f} s ({res.get('first_vector_hit')})",
                "",
            ]
        )
        rows.append(
            [
                f"2 spawn → vector search finds {MEANING_TARGET} first",
                f"{m.get('vector', nan):.2f} s (q={MEANING_QUERY!r})"
                + (
                    f"; at idle the top hits were {res['vector_top_at_idle']}"
                    if "vector_top_at_idle" in res
                    else ""
                ),
                "",
            ]
        )
        rows.append(
            ["2 spawn → state 'embedding' first seen", f"{m.get('embedding', nan):.2f} s", ""]
        )
        rows.append(
            ["2 spawn → state 'idle' (vectors done)", f"{m.get('all_idle', nan):.2f} s", ""]
        )
    if "save" in res:
        s = res["save"]
        lat = s["lat"]
        p95 = percentile(lat, 95)
        rows.append(
            [
                f"4 save → searchable (n={len(lat)}, misses {s['misses']})",
                f"p50 {ms(median(lat))} ms, p95 {ms(p95)} ms, max {ms(max(lat))} ms "
                f"(incl. 300 ms debounce)",
                "p95 ≤ 1 s " + ("✓" if p95 <= 1 else "✗"),
            ]
        )
        if s["base"]:
            rows.append(
                [
                    "4 baseline: text search round trip",
                    f"p50 {ms(median(s['base']))} ms, p95 {ms(percentile(s['base'], 95))} ms",
                    "",
                ]
            )
    if "rescan" in res:
        r = res["rescan"]
        tot = median(r["total"])
        rows.append(
            [
                f"3 re-scan {SCAN_FILES} unchanged: scan + reconcile",
                f"median {tot:.3f} s (scan {median(r['scan']):.3f}, reconcile "
                f"{median(r['reconcile']):.3f}); {r['counts']}",
                "≤ 2 s " + ("✓" if tot <= 2 else "✗"),
            ]
        )
        rows.append(
            [
                "3 baseline: os.walk + os.stat",
                f"median {median(r['walk']):.3f} s "
                f"(scan+reconcile = {tot / median(r['walk']):.1f}x)",
                "",
            ]
        )
        if "restart" in res:
            sts = res["restart"]["states"]
            t_scan = next((t for t, s in sts if s == "scanning"), None)
            t_idle = next((t for t, s in sts if s == "idle"), None)
            if t_scan is not None and t_idle is not None:
                rows.append(
                    [
                        "3 server restart on the tree: scanning → idle",
                        f"{t_idle - t_scan:.2f} s (idle {t_idle:.2f} s after spawn)",
                        "",
                    ]
                )
    if "lat" in res:
        lat = res["lat"]
        names = {
            "embed": "query embedding alone",
            "hybrid": "IndexService.search hybrid",
            "vector": "... vector",
            "text": "... text (no embedding)",
            "hybrid_lang": "... hybrid, lang=c",
            "hybrid_path": "... hybrid, path=src/d7/*",
            "lance": "baseline: embed + LanceDB brute-force top-10",
        }
        for key, label in names.items():
            v = lat[key]
            p95 = percentile(v, 95)
            goal = ""
            if key == "hybrid":
                goal = "p95 ≤ 50 ms " + ("✓" if p95 <= 0.05 else "✗")
            rows.append(
                [
                    f"5 {label} (n={len(v)}, {N_CHUNKS} chunks)",
                    f"p50 {ms(median(v))} ms, p95 {ms(p95)} ms",
                    goal,
                ]
            )
        parts = res["parts"]

        def p50_95(key: str) -> str:
            return f"{ms(median(parts[key]))} / {ms(percentile(parts[key], 95))}"

        rows.append(
            [
                "5 hybrid step by step, one thread (p50 / p95 ms)",
                f"embed {p50_95('embed')} + text_search {p50_95('text_half')} + "
                f"search(text_hits) {p50_95('search_given_text')} = sequential "
                f"{p50_95('sequential')}; service.search (text half concurrent with the "
                f"embedding) {p50_95('service_hybrid')}; bench-only: text half concurrent "
                f"with embedding + vector ranking {p50_95('overlap_all')}",
                "",
            ]
        )
        rows.append(
            [
                "5 inside search(text_hits) (p50 / p95 ms)",
                f"vector half {p50_95('vector_half')} (bare matvec {p50_95('matvec')}), "
                f"fusion + snippets {p50_95('fuse_snippets')}",
                "",
            ]
        )
        rows.append(
            [
                "5 filters (p50 / p95 ms)",
                f"vector half lang=c {p50_95('vector_half_lang')}, path "
                f"{p50_95('vector_half_path')}"
                f" (mask alone {p50_95('mask_path')}); text half path "
                f"{p50_95('text_half_path')}, {median(res['path_text_hits']):.0f} text hits "
                f"median",
                "",
            ]
        )
        rows.append(
            [
                f"5 one file write at {N_CHUNKS} chunks (replace 10 chunks with vectors)",
                f"median {ms(median(res['write_100k']))} ms (max "
                f"{ms(max(res['write_100k']))}); next filtered search "
                f"{ms(median(res['first_filtered']))} ms",
                "",
            ]
        )
        rows.append(
            [
                f"5 text-first write + fill at {N_CHUNKS} (10 chunks)",
                f"replace(None) {ms(median(res['write_100k_text_first']))} ms + fill "
                f"{ms(median(res['fill_100k']))} ms (medians)",
                "",
            ]
        )
        if "path_recall" in res:
            got = sum(g for g, _ in res["path_recall"])
            there = sum(a for _, a in res["path_recall"])
            rows.append(
                [
                    "5 text hits with path=src/d7/* (20 queries)",
                    f"{got} returned of {there} in that folder (each capped at the pool of 50)",
                    "",
                ]
            )
        if "after_fills" in res:
            frags, indexed, unindexed = res["fills_fts_state"]
            af = res["after_fills"]
            rows.append(
                [
                    f"5 text half after {FILLS} fills since optimize() ({frags} frags, "
                    f"{unindexed} rows outside FTS)",
                    f"p50 {ms(median(af['before']))} ms, p95 "
                    f"{ms(percentile(af['before'], 95))} ms → after optimize() "
                    f"({res['fills_optimize_s']:.1f} s) {ms(median(af['after']))} ms "
                    f"(the {FILLS} writes + fills took {res['fills_s']:.1f} s)",
                    "",
                ]
            )
        inc = res.get("incr")
        if inc:
            frags, indexed, unindexed = res["incr_fts_state"]
            rows.append(
                [
                    f"5 text half before any optimize() ({frags} frags, FTS on {indexed} rows)",
                    f"p50 {ms(median(inc['text_unoptimized']))} ms → after optimize() "
                    f"({res['optimize_s']:.1f} s) {ms(median(inc['text_optimized']))} ms",
                    "",
                ]
            )
        rows.append(
            [
                "5 build: insert / FTS index / ChunkIndex.open",
                f"{res['insert_s']:.1f} s / {res['fts_s']:.1f} s / {res['open_s']:.1f} s",
                "",
            ]
        )
    for key, label in (("sidecar", "sidecar"), ("sidecar_no_arena", "sidecar, arena off*")):
        sc = res.get(key)
        if not sc:
            continue
        ready, indexed = sc["ready"]["VmRSS"], sc["indexed"]["VmRSS"]
        mb = 1.048576  # MiB -> MB
        rows.append(
            [
                f"6 {label} RSS, index ready (model loaded)",
                f"{ready:.0f} MiB = {ready * mb:.0f} MB (listening {sc['listening']:.0f} "
                f"MiB; ready {sc['ready_s']:.1f} s after spawn; torch mapped: {sc['torch']})",
                "≤ 600 MB " + ("✓" if ready * mb <= 600 else "✗"),
            ]
        )
        rows.append(
            [
                f"6 {label} RSS after {sc['chunks']} chunks via /index/files, vectors done",
                f"{indexed:.0f} MiB = {indexed * mb:.0f} MB (peak {sc['indexed']['VmHWM']:.0f}"
                f" MiB; after 4 searches {sc['searched']['VmRSS']:.0f} MiB; files written "
                f"{sc['index_s']:.1f} s, vectors {sc['vectors_s']:.1f} s = "
                f"{sc['chunks'] / sc['vectors_s']:.1f} chunks/s)",
                "≤ 600 MB " + ("✓" if indexed * mb <= 600 else "✗"),
            ]
        )
    for key, message in errors.items():
        rows.append([f"{key} FAILED", message[:120], ""])
    if rows:
        print(table(["figure", "value", "goal"], rows))

    if res.get("loadavg"):
        print("\nLoad average (1 / 5 / 15 min) at the start → end of each section:")
        for key, start, end in res["loadavg"]:
            print(f"  [{key}] {start} → {end}")
    if "slices" in res:
        print(
            "\nSection 1 slices (IndexService text-first, the same with inline_embed=∞, torch; "
            "interleaved, order alternates; text-first: index_files calls / last fill() / "
            "wait_vectors returned, s from the slice's start; ratio = torch / wait_vectors)"
        )
        print(
            table(
                [
                    "slice",
                    "files",
                    "chunks",
                    "index_files s",
                    "vectors s",
                    "wait_vectors s",
                    "inline s",
                    "torch s",
                    "ratio",
                ],
                [
                    [
                        str(a),
                        str(b),
                        str(c),
                        f"{d:.2f}",
                        f"{e:.2f}",
                        f"{f:.2f}",
                        f"{g:.2f}",
                        f"{h:.2f}",
                        f"{h / f:.2f}",
                    ]
                    for a, b, c, d, e, f, g, h in res["slices"]
                ],
            )
        )
    if "states" in res:
        print(
            "\nSection 1/2 index states: " + " → ".join(f"{s}@{t:.2f}s" for t, s in res["states"])
        )
        print("vectors_pending: " + ", ".join(f"{p}@{t:.2f}s" for t, p in res["pending_seen"]))
        print(
            f"first hits: text {res.get('first_text_hit')}, hybrid {res.get('first_hybrid_hit')}"
            f" (query {FIRST_QUERY!r}); vector {res.get('first_vector_hit')} then "
            f"{res.get('vector_hit')} (query {MEANING_QUERY!r})"
        )
    if "scan_profile" in res:
        print("\nSection 3: cProfile of one scan (tottime, cumtime, calls, function)")
        for tt, ct, nc, name in res["scan_profile"]:
            print(f"  {tt:7.3f} {ct:7.3f} {nc:8d}  {name}")
    if "sidecar_no_arena" in res:
        print(
            "\n* arena off: the same sidecar started through a bench-only patch that sets "
            "onnxruntime SessionOptions.enable_cpu_mem_arena = False (run after the shipped one, "
            "not interleaved)."
        )
    if "hybrid_profile" in res:
        print(
            f"\nSection 5: cProfile of 30 hybrid IndexService.search at {N_CHUNKS} chunks, "
            "calling thread (tottime, cumtime, calls, function)"
        )
        for tt, ct, nc, name in res["hybrid_profile"]:
            print(f"  {tt:7.3f} {ct:7.3f} {nc:8d}  {name}")
    if "write_profile" in res:
        print(
            f"\nSection 5: cProfile of one ChunkIndex.replace (10 chunks) at {N_CHUNKS} chunks "
            "(tottime, cumtime, calls, function)"
        )
        for tt, ct, nc, name in res["write_profile"]:
            print(f"  {tt:7.3f} {ct:7.3f} {nc:8d}  {name}")
    if "rss_steps" in res:
        print("\nSection 6: RSS after each step, one process (MiB, seconds)")
        prev = 0.0
        for name, rss, secs in res["rss_steps"]:
            if name == "torch imported?":
                print(f"  torch imported: {bool(rss)}")
                continue
            print(f"  {rss:7.0f} (+{rss - prev:5.0f})  {secs:6.2f} s  {name}")
            prev = rss
    elif "rss_steps_error" in res:
        print("Section 6 steps failed:", res["rss_steps_error"])
