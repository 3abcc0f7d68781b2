"""Text rendering of `suite` results: the measurement table, phases, scaling, notes."""

from __future__ import annotations

from typing import Any

DEFINITIONS: dict[str, str] = {
    "seconds": "wall time inside the child around the work only (imports, Dagster definitions "
    "and connection setup excluded); the table shows the median over the runs",
    "peak RSS MB": "the child process's own peak RSS from os.wait4 (ru_maxrss), maximum over "
    "the runs; it includes the imports (Python, DuckDB; Dagster, polars, pandera for ingests)",
    "bare duckdb read_csv": "CREATE TABLE t AS SELECT * FROM read_csv(file, delim='\\t', "
    "header=true[, all_varchar=true]) into a fresh on-disk DuckDB file, threads=2, "
    "memory_limit=512MB (the pipeline's settings); the file is in the page cache. The "
    "checkpoint DuckDB does when the connection closes is not included (see the note below the "
    "table) except in the 'incl. checkpoint' row; the TEMP row is the same read kept in memory, "
    "i.e. the parse without the storage write",
    "live ingest": "dagster.materialize of raw_oews + stg_oews__estimates (no asset checks) with "
    "source_mode=live, bls_base_url on the loopback server, contact bench@example.org, "
    "http_min_interval_s=0, into an empty cache and an empty warehouse: 7 downloads over "
    "loopback HTTP (served from disk with sendfile), code lists, pivot, typing, pandera "
    "validation and the table swap",
    "parse-only ingest": "the same materialize again on the same cache and warehouse: every "
    "file answers 304 Not Modified, so it is the ingest without the transfer (the cache is "
    "still re-hashed and the table replaced)",
    "pandas read_csv": "pandas.read_csv(file, sep='\\t', dtype=str) + strip every column + "
    "pandas.to_numeric of the values: the ingest a notebook would do (no pivot, no storage)",
    "plain-pandas script": "tests/benchmarks/pandas_notebook.py, written as an analyst would: "
    "read the flat files with pandas, pivot the 17 datatypes, screen the national detailed "
    "occupations with the project's skill rules and living wage, assign clusters with the "
    "project's cluster rules, aggregate sub-clusters, industries and states, write 14 pages "
    "with four Plotly charts each (plotly.js inlined, fig.to_html's offline default)",
    "full refresh": "the refresh_warehouse job through Dagster's own execution, as `ccp run` "
    "runs it (the $DAGSTER_HOME instance, every asset and check, the 14 cluster reports of the "
    "release in one run), into an empty warehouse and cache; definitions loaded before the "
    "clock. Live: the OEWS flat files from the loopback server, NAICS, SOC, EP and O*NET from "
    "local copies in ../shared/data, a small crosswalk workbook in Advance CTE's layout (no "
    "public copy here)",
    "re-render": "on that refresh's warehouse, the digital-technology review sheet filled as a "
    "reviewer would (remove its largest occupation whose primary cluster is another) and the "
    "apply_review_decisions job run for that one cluster report: decisions, clusters, profile "
    "tables, that report and the index",
    "CPU s": "user + system CPU seconds of the child during the work (all threads), median",
    "vs comparison": "median seconds divided by the median seconds of the row whose id is given "
    "(a second id: a second comparison); CPU vs: the same for CPU seconds, first comparison",
    "target": "from the issues: live ingest <= 1.3x the bare all-varchar read_csv and peak RSS "
    "<= 1024 MB (cold live ingest of the full file); full refresh <= 0.75x the plain-pandas "
    "script and <= 1024 MB; re-render <= 3 s; report <= 1.5 MB without plotly.js. Rows marked "
    "'info' show the same test for information",
}


def _ids(measurements: list[dict[str, Any]]) -> dict[str, str]:
    return {m["name"]: chr(ord("A") + i) for i, m in enumerate(measurements)}


def _target_text(m: dict[str, Any]) -> str:
    target, met = m.get("target"), m.get("target_met")
    if not target or not met:
        return ""
    ok = "PASS" if all(met.values()) else "FAIL"
    misses = [k for k, v in met.items() if not v]
    why = f" ({' and '.join(misses)})" if misses else ""
    role = "target" if target["official"] else "info"
    limits = []
    if target["max_ratio"] is not None:
        limits.append(f"≤ {target['max_ratio']:g}×")
    if target.get("max_s") is not None:
        limits.append(f"≤ {target['max_s']:g} s")
    if target["max_rss_mb"] is not None:
        limits.append(f"≤ {target['max_rss_mb']:g} MB")
    return f"{' / '.join(limits)}: {ok}{why} [{role}]"


def table(doc: dict[str, Any]) -> str:
    measurements = doc["measurements"]
    ids = _ids(measurements)
    rows = [
        (
            "id",
            "measurement",
            "rows",
            "median s",
            "min–max s",
            "CPU s",
            "peak RSS MB",
            "vs comparison",
            "CPU vs",
            "target",
        )
    ]
    for m in measurements:
        ref = ids.get(m["compare_to"] or "")
        ratio = f"{m['ratio']:.2f}× {ref}" if m.get("ratio") else ""
        if m.get("also_ratio"):
            ratio += f", {m['also_ratio']:.2f}× {ids[m['also_compare_to']]}"
        cpu_ratio = f"{m['cpu_ratio']:.2f}×" if m.get("cpu_ratio") else ""
        rows.append(
            (
                ids[m["name"]],
                m["label"],
                f"{m['data_rows'] / 1e6:.2f} M",
                f"{m['median_s']:.2f}",
                f"{m['min_s']:.2f}–{m['max_s']:.2f}",
                f"{m['median_cpu_s']:.2f}",
                f"{m['peak_rss_mb_max']:.0f}",
                ratio,
                cpu_ratio,
                _target_text(m),
            )
        )
    closes = [
        f"{ids[m['name']]} {m['close_s_median']:.2f} s"
        for m in measurements
        if m["workload"] in ("bare_read_varchar", "bare_read_auto") and m["close_s_median"] >= 0.1
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4, 5, 6, 8}
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    if closes:
        lines.append(
            "closing the bare reads' connection (checkpoint, not in their seconds) took "
            + ", ".join(closes)
        )
    return "\n".join(lines)


def phases(doc: dict[str, Any]) -> str:
    """Median seconds per phase of the full-file ingests, side by side."""
    ingests = [
        m
        for m in doc["measurements"]
        if m["workload"] == "ingest" and m["group"] == "main" and "phases_median_s" in m
    ]
    if not ingests:
        return ""
    labels = list(ingests[0]["phases_median_s"])
    head = f"{'phase (median s; peak RSS MB reached by its end)':<50}" + "".join(
        f"{m['name']:>26}" for m in ingests
    )
    lines = [head, "-" * len(head)]
    for label in labels:
        cells = "".join(
            f"{m['phases_median_s'].get(label, 0):>14.2f} s "
            f"{m['phases_maxrss_after_mb'].get(label, 0):>6.0f} MB"
            for m in ingests
        )
        lines.append(f"{label:<50}{cells}")
    for step in ingests[0]["steps_median_s"]:
        cells = "".join(f"{m['steps_median_s'].get(step, 0):>14.2f} s {'':>9}" for m in ingests)
        lines.append(f"{'Dagster step ' + step:<50}{cells}")
    top = [p for p in labels if not p.startswith("  ")]
    cells = "".join(
        f"{m['median_s'] - sum(m['phases_median_s'][p] for p in top):>14.2f} s {'':>9}"
        for m in ingests
    )
    lines.append(f"{'rest (Dagster, raw table writes, metadata)':<50}{cells}")
    cells = "".join(f"{m['median_s']:>14.2f} s {m['peak_rss_mb_max']:>6.0f} MB" for m in ingests)
    lines.append(f"{'total (child peak RSS from wait4)':<50}{cells}")
    before = "".join(f"{'':>16} {m['rss_before_work_mb_median']:>6.0f} MB" for m in ingests)
    lines.append(f"{'RSS before the work (after imports)':<50}{before}")
    if note := _cpu_floor_note(doc, ingests):
        lines += ["", note]
    return "\n".join(lines)


def _cpu_floor_note(doc: dict[str, Any], ingests: list[dict[str, Any]]) -> str:
    """How fast each ingest could be at best on this machine: its CPU seconds spread over
    every core with no idle moment, next to the bare read it is compared with."""
    cores = doc["machine"].get("cpu_count") or 1
    by_name = {m["name"]: m for m in doc["measurements"]}
    parts = []
    for m in ingests:
        bare = by_name.get(m.get("compare_to") or "")
        if bare and bare.get("median_s") and m.get("median_cpu_s"):
            floor = m["median_cpu_s"] / cores
            parts.append(
                f"{m['name']} {floor:.2f} s = {floor / bare['median_s']:.2f}× the bare read"
            )
    if not parts:
        return ""
    return (
        f"CPU floor (CPU seconds / {cores} cores, i.e. both cores busy all the time): "
        + "; ".join(parts)
    )


def scaling(doc: dict[str, Any]) -> str:
    by_name = {m["name"]: m for m in doc["measurements"]}
    rows = []
    for key, label in (("1_8", "1/8"), ("1_4", "1/4"), ("1_2", "1/2"), ("full", "full")):
        bare, ingest = by_name.get(f"bare_varchar_{key}"), by_name.get(f"ingest_cold_{key}")
        if bare and ingest:
            rows.append((label, bare, ingest))
    if len(rows) < 2:
        return ""
    lines = [
        f"{'fraction':<9}{'data rows':>12}{'bare s':>9}{'ingest s':>10}{'ratio':>8}"
        f"{'peak RSS MB':>13}{'ingest µs/row':>15}"
    ]
    lines.append("-" * len(lines[0]))
    for label, bare, ingest in rows:
        lines.append(
            f"{label:<9}{ingest['data_rows']:>12,}{bare['median_s']:>9.2f}"
            f"{ingest['median_s']:>10.2f}{ingest['median_s'] / bare['median_s']:>7.2f}×"
            f"{ingest['peak_rss_mb_max']:>13.0f}"
            f"{ingest['median_s'] / ingest['data_rows'] * 1e6:>15.2f}"
        )
    if len(rows) >= 3:
        lines.append("")
        lines.append(_linear_fit_note(rows))
    return "\n".join(lines)


def line_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float] | None:
    """Least-squares y = a + b*x: (a, b, R²); None when the x values are all the same."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def _linear_fit_note(rows: list[tuple[str, dict, dict]]) -> str:
    """Split each cost into a fixed part and a part per row: how cost grows with work, and how
    much of the ingest's ratio to the bare read is fixed overhead."""
    millions = [ingest["data_rows"] / 1e6 for _, _, ingest in rows]
    fits = {
        name: line_fit(millions, [m["median_s"] for m in ms])
        for name, ms in (("ingest", [r[2] for r in rows]), ("bare", [r[1] for r in rows]))
    }
    if fits["ingest"] is None or fits["bare"] is None:
        return "(no line fitted: the sizes are all the same)"
    (ia, ib, ir2), (ba, bb, br2) = fits["ingest"], fits["bare"]
    if bb <= 0:
        return f"(no per-row ratio: the bare read's fitted cost per row is {bb:.3f} s)"
    return (
        f"least-squares lines over the {len(rows)} sizes: ingest {ia:.2f} s + {ib:.3f} s per "
        f"million rows (R² {ir2:.3f}); bare read {ba:.2f} s + {bb:.3f} s per million rows "
        f"(R² {br2:.3f}). Per row the ingest costs {ib / bb:.2f}× the bare read; the rest of "
        "its ratio is the fixed part (Dagster's run, the small files, the contract's set-up)."
    )


def _load_note(doc: dict[str, Any]) -> str:
    """How much CPU other processes used while the children ran (it inflates wall seconds)."""
    runs = [r for m in doc["measurements"] for r in m["runs"]]
    if not runs:
        return ""
    worst = max(runs, key=lambda r: r["others_share"])
    total = sum(r["others_cpu_s"] for r in runs)
    return (
        f"other processes used {total:.0f} CPU-s during the measurements, at worst "
        f"{worst['others_share']:.0%} of the machine during one child (wall seconds are then "
        "inflated; the CPU s column is less sensitive to that)"
    )


def refresh_details(doc: dict[str, Any]) -> str:
    """Slowest Dagster steps of each full refresh, the re-render split, the report weights."""
    lines = []
    for m in doc["measurements"]:
        if m["workload"] == "refresh" and m.get("steps_slowest_s"):
            steps = ", ".join(f"{k} {v:.2f}" for k, v in list(m["steps_slowest_s"].items())[:8])
            lines.append(f"{m['name']}: slowest steps (s, last run): {steps}")
        if m.get("steps_total_s") is not None:
            lines.append(
                f"{m['name']}: {m['steps_total_s']:.2f} s inside Dagster steps, the rest of "
                f"{m['median_s']:.2f} s is Dagster's run and step overhead (last run)"
            )
    weights = next((m for m in doc["measurements"] if "report_bytes_max" in m), None)
    if weights:
        pages = weights["report_bytes"]
        lines.append(
            f"report weight ({len(pages)} reports, without the shared plotly.min.js of "
            f"{weights['plotly_js_bytes'] / 1e6:.2f} MB): largest "
            f"{weights['report_bytes_max'] / 1e3:.0f} KB, median "
            f"{weights['report_bytes_median'] / 1e3:.0f} KB (target ≤ 1,500 KB: "
            f"{'PASS' if weights['report_bytes_max'] <= 1_500_000 else 'FAIL'}); index "
            f"{weights['index_bytes'] / 1e3:.0f} KB"
        )
    notebook = next((m for m in doc["measurements"] if "page_bytes_median" in m), None)
    if notebook:
        lines.append(
            f"the pandas script's pages (plotly.js inlined, as fig.to_html does offline): "
            f"median {notebook['page_bytes_median'] / 1e3:.0f} KB"
        )
    return "\n".join(lines)


def render(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    cfg = doc["config"]
    parts = [
        f"benchmark {machine['date']}: {machine['cpu_count']} CPUs "
        f"({machine['cpu_model']}), "
        f"{machine['memory_total_gb']} GB, Python {machine['python']}, duckdb "
        f"{machine['duckdb']}, polars {machine['polars']}, dagster {machine['dagster']}; "
        f"{cfg['runs']} runs each, medians; DuckDB threads={cfg['duckdb_threads']}, "
        f"memory_limit={cfg['duckdb_memory_limit']}",
        _load_note(doc),
        "",
        table(doc),
    ]
    if section := phases(doc):
        parts += ["", "where the ingest's time goes (full file):", section]
    if section := refresh_details(doc):
        parts += ["", "full refresh, re-render and report weight:", section]
    if section := scaling(doc):
        parts += ["", "scaling (cold live ingest vs bare all-varchar read_csv):", section]
    parts += ["", "definitions:"]
    parts += [f"  {k}: {v}" for k, v in doc["definitions"].items()]
    return "\n".join(parts)
