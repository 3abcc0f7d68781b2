"""The benchmark's table of named measurements: what runs, on which file, compared with what.

Each `Measurement` names a workload (see `workloads`), the dataset it runs on, the measurement it
is compared with and, optionally, a target. New comparisons (pandas, other engines) slot in as
more rows here plus a workload.
"""

from __future__ import annotations

from dataclasses import dataclass

FRACTIONS: dict[str, float] = {"1/8": 0.125, "1/4": 0.25, "1/2": 0.5, "full": 1.0}


@dataclass(frozen=True)
class Target:
    """Seconds at most `max_ratio` x the comparison's (or at most `max_s`), peak RSS at most
    `max_rss_mb`."""

    max_ratio: float | None
    max_rss_mb: float | None
    official: bool  # True: a number the issue's targets are judged on
    max_s: float | None = None


@dataclass(frozen=True)
class Measurement:
    """One named measurement: a workload on a dataset, compared with another measurement.

    Measurements with the same `state` share one folder within a run, in plan order (the
    parse-only ingest reuses the cache and warehouse the cold ingest just left there).
    """

    name: str
    label: str
    workload: str
    dataset: str
    compare_to: str | None = None
    target: Target | None = None
    state: str | None = None
    group: str = "main"
    served: bool = False  # reads the flat files from the loopback server (else from disk)
    also_compare_to: str | None = None  # a second comparison shown beside the first


ISSUE_TARGET = Target(max_ratio=1.3, max_rss_mb=1024, official=True)
REFRESH_TARGET = Target(max_ratio=0.75, max_rss_mb=1024, official=True)
RERENDER_TARGET = Target(max_ratio=None, max_rss_mb=None, official=True, max_s=3.0)


def plan(*, scaling: bool, refresh: bool = True) -> list[Measurement]:
    """The measurements, in the order each run executes them."""
    bare = "bare_varchar_full"
    plan_ = [
        Measurement(bare, "bare duckdb read_csv (all varchar)", "bare_read_varchar", "full"),
        Measurement(
            "bare_auto_full",
            "bare duckdb read_csv (auto-detect types)",
            "bare_read_auto",
            "full",
            compare_to=bare,
        ),
        Measurement(
            "bare_durable_full",
            "bare duckdb read_csv incl. checkpoint at close",
            "bare_read_durable",
            "full",
            compare_to=bare,
        ),
        Measurement(
            "bare_temp_full",
            "bare duckdb read_csv → TEMP table (in memory)",
            "bare_read_temp",
            "full",
            compare_to=bare,
        ),
        Measurement(
            "pandas_read_full",
            "pandas read_csv + strip + numeric cast",
            "pandas_read",
            "full",
            compare_to=bare,
        ),
        Measurement(
            "ingest_cold_full",
            "live ingest (download+parse+stage)",
            "ingest",
            "full",
            compare_to=bare,
            target=ISSUE_TARGET,
            state="ingest_full",
            served=True,
            also_compare_to="pandas_read_full",
        ),
        Measurement(
            "ingest_warm_full",
            "parse-only ingest (cached file, 304s)",
            "ingest",
            "full",
            compare_to=bare,
            target=Target(1.3, 1024, official=False),
            state="ingest_full",
            served=True,
            also_compare_to="pandas_read_full",
        ),
    ]
    if refresh:
        notebook = "pandas_notebook_full"
        plan_ += [
            Measurement(
                notebook,
                "plain-pandas script: read, pivot, screen, assign, 14 Plotly pages",
                "pandas_notebook",
                "full",
                group="refresh",
            ),
            Measurement(
                "refresh_embedded",
                "full refresh, embedded release (every asset, 14 reports)",
                "refresh",
                "full",
                compare_to=notebook,
                target=REFRESH_TARGET,
                state="refresh_embedded",
                group="refresh",
            ),
            Measurement(
                "rerender_one_cluster",
                "reviewer decision → apply_review_decisions, 1 cluster report",
                "rerender",
                "full",
                target=RERENDER_TARGET,
                state="refresh_embedded",
                group="refresh",
            ),
            Measurement(
                "refresh_live_full",
                "full refresh, full-size flat files on loopback (every asset, 14 reports)",
                "refresh",
                "full",
                compare_to=notebook,
                target=REFRESH_TARGET,
                group="refresh",
                served=True,
            ),
        ]
    if scaling:
        for label, fraction in FRACTIONS.items():
            if fraction == 1.0:
                continue
            key = label.replace("/", "_")
            plan_ += [
                Measurement(
                    f"bare_varchar_{key}",
                    f"bare read_csv (all varchar), {label} file",
                    "bare_read_varchar",
                    label,
                    group="scaling",
                ),
                Measurement(
                    f"ingest_cold_{key}",
                    f"live ingest, {label} file",
                    "ingest",
                    label,
                    compare_to=f"bare_varchar_{key}",
                    group="scaling",
                    served=True,
                ),
            ]
    return plan_
