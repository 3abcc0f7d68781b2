"""Which rendered reports show figures the warehouse no longer holds.

A run can rebuild every cluster's tables yet render only some reports: `--cluster`, or a
selection in the UI. A reviewer's `move` changes two clusters (a `remove` of a shared occupation
too: the other cluster's count of shared clusters), so a report not rendered in that run may
disagree with the index and the tables. Each report carries, in a `<meta>` tag, a fingerprint
of its cluster's rows in the tables it shows; a report whose fingerprint differs from the rows
now, or that has none, is out of date. The page itself says what it was made from, so a copied
or moved reports folder is judged as correctly as the one the run wrote. (DuckDB's `hash` may
differ between DuckDB versions: after an upgrade every report counts as out of date once.)
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.reporting.data import decisions_table
from pipelines.warehouse import fetch_all, table_exists

# The tables a cluster's report shows, each keyed by release and cluster.
REPORT_TABLES = (
    "out_profiles__cluster_summary",
    "out_profiles__cluster_occupations",
    "out_clusters__occupation_cluster",
    "out_clusters__cluster_industry",
    "out_profiles__cluster_states",
    "out_profiles__cluster_changes",
    "out_profiles__cluster_industry_changes",
)


def report_fingerprints(con: duckdb.DuckDBPyConnection, release: str) -> dict[str, str]:
    """cluster code -> fingerprint of the rows its report shows for `release` (every cluster of
    the framework; the reviewer decisions count for both clusters a move names)."""
    decisions = decisions_table(con)
    parts = [
        f"SELECT cluster_code, hash(t) AS h FROM {table} t WHERE release_code = $1"
        for table in REPORT_TABLES
    ] + [
        f"SELECT cluster_code, hash(d) AS h FROM {decisions} d",
        f"SELECT to_cluster_code, hash(d) AS h FROM {decisions} d "
        "WHERE to_cluster_code IS NOT NULL",
    ]
    rows = fetch_all(
        con,
        "SELECT c.cluster_code, CAST(coalesce(sum(r.h::HUGEINT), 0) AS VARCHAR) "
        f"FROM raw_framework__clusters c LEFT JOIN ({' UNION ALL '.join(parts)}) r "
        "USING (cluster_code) GROUP BY 1 ORDER BY 1",
        [release],
    )
    return {code: fingerprint for code, fingerprint in rows}


FINGERPRINT_META = "ccp-data-fingerprint"
_META = re.compile(rf'<meta name="{FINGERPRINT_META}" content="([0-9-]+)">')


def rendered_fingerprint(page: Path) -> str | None:
    """The fingerprint a report page was rendered from (None: a page made before reports
    carried one, or not a report)."""
    with page.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    match = _META.search(head)
    return match.group(1) if match else None


def stale_reports(
    con: duckdb.DuckDBPyConnection,
    output: Path,
    release: str,
    current: dict[str, str] | None = None,
) -> list[str]:
    """Clusters whose report of `release` in `output` was rendered from other rows than the
    tables hold now, or carries no fingerprint (made by a version that did not record one:
    nothing says it is current). Empty when the warehouse holds no profile of `release` (the
    folder's reports then come from another warehouse, and there is nothing to compare)."""
    folder = output / release
    needed = (*REPORT_TABLES, "raw_framework__clusters", "raw_review__decisions")
    if not folder.is_dir() or not all(table_exists(con, t) for t in needed):
        return []
    profiled = fetch_all(
        con, "SELECT 1 FROM out_profiles__cluster_summary WHERE release_code = ? LIMIT 1", [release]
    )
    if not profiled:
        return []
    current = current if current is not None else report_fingerprints(con, release)
    return [
        cluster
        for cluster, fingerprint in sorted(current.items())
        if (folder / f"{cluster}.html").exists()
        and rendered_fingerprint(folder / f"{cluster}.html") != fingerprint
    ]
