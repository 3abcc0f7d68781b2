"""Whether a report describes the warehouse it is rendered from, and which rendered reports
show figures the warehouse no longer holds.

Before rendering, `screen_mismatch`: a report states the configured policy over figures built on
the screen, so both must come from one screen.

After rendering, `stale_reports`: a run can rebuild every cluster's tables yet render only some
reports (`--cluster`, or a selection in the UI). A reviewer's `move` changes two clusters (a
`remove` of a shared occupation too: the other cluster's count of shared clusters), so a report
not rendered in that run may disagree with the index and the tables. Each report carries, in
a `<meta>` tag, a fingerprint of its cluster's rows in the tables it shows; a report whose
fingerprint differs from the rows now, or that has none, is out of date. The page itself says
what it was made from, so a copied or moved reports folder is judged as correctly as the one
the run wrote. The index keeps, the same way, what it showed (`index_state`: its figures and
marks), so a run that rendered reports without it can say the index is out of date. (DuckDB's
`hash` may differ between DuckDB versions: after an upgrade every page counts as out of date
once.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from pipelines.errors import ExplainedError
from pipelines.review_tables import applied_decisions_table
from pipelines.warehouse import fetch_all, fetch_one, table_exists

# Each table a report reads that carries what the screen decided, and the rows that disagree
# with the screen (`q`: the release's national screen; `$1`: the release).
_SCREEN_COPIES = {
    "out_clusters__occupation_cluster": """
        SELECT count(*) FROM out_clusters__occupation_cluster AS o
        LEFT JOIN q USING (occupation_code) WHERE o.release_code = $1
          AND (o.skill_tier, o.status, o.qualification_reason)
              IS DISTINCT FROM (q.skill_tier, q.status, q.reason)""",
    "out_profiles__cluster_occupations": """
        SELECT count(*) FROM out_profiles__cluster_occupations AS p
        LEFT JOIN q USING (occupation_code) WHERE p.release_code = $1
          AND (p.skill_tier, p.skill_tier_source, p.living_wage_margin_usd, p.status,
               p.qualification_reason)
              IS DISTINCT FROM
              (q.skill_tier, q.skill_tier_source, q.living_wage_margin_usd, q.status, q.reason)""",
    "out_profiles__cluster_summary": """
        SELECT count(*) FROM out_profiles__cluster_summary AS s
        LEFT JOIN (
          SELECT o.cluster_code,
                 count(DISTINCT o.occupation_code) FILTER (WHERE q.status = 'qualifies') AS n
          FROM out_clusters__occupation_cluster AS o JOIN q USING (occupation_code)
          WHERE o.release_code = $1 GROUP BY 1
        ) AS r USING (cluster_code)
        WHERE s.release_code = $1 AND s.qualifying_occupation_count IS DISTINCT FROM r.n""",
    "out_profiles__cluster_changes": """
        SELECT count(*) FROM out_profiles__cluster_changes AS c
        LEFT JOIN q USING (occupation_code) WHERE c.release_code = $1
          AND c.status IS NOT NULL AND c.status IS DISTINCT FROM q.status""",
}


class ReleaseNotProfiledError(ExplainedError, LookupError):
    """The release to render has no profile tables in the warehouse."""


class ScreenChangedError(ExplainedError, RuntimeError):
    """The reports would state a policy, or show figures, of another screen than the release's."""


def ensure_renderable(
    con: duckdb.DuckDBPyConnection,
    release: str,
    fingerprint: Callable[[], str],
    policy_path: str,
    summary: str,
) -> None:
    """Before anything is written (no stray folder, no report changed): raise when `release`
    has no profile tables (`summary`: the table that says which do), or when its reports
    would not describe the screen behind their own figures (see `screen_mismatch`; the
    configured policy's `fingerprint` is asked for only then: it reads the policy tables, which
    a warehouse without profile tables may not have)."""
    present = (
        [r[0] for r in fetch_all(con, f"SELECT DISTINCT release_code FROM {summary} ORDER BY 1")]
        if table_exists(con, summary)
        else []
    )
    if release not in present:
        raise ReleaseNotProfiledError(
            f"[reports] release {release} has no profile tables in the warehouse (it has: "
            f"{', '.join(present) or 'none'}), so there is nothing to render.\nWhat to do: "
            f"build it first (`ccp run --release {release}`), or render a release it has."
        )
    mismatch = screen_mismatch(con, release, fingerprint())
    if mismatch:
        raise ScreenChangedError(
            f"[reports] release {release} cannot be rendered as it is: {mismatch}. No "
            f"report was changed.\nWhat to do: screen the release under the policy "
            f"configured now ({policy_path}) and rebuild everything after the "
            f"screen, reports included: `ccp run --job qualify_occupations --release "
            f"{release}`."
        )


def screen_mismatch(con: duckdb.DuckDBPyConnection, release: str, fingerprint: str) -> str | None:
    """Why a report of `release` rendered now would not describe its own figures, or None.

    A report states the configured policy and shows figures from the tables built on the
    screen, so all must come from one screen: the release screened under the policy configured
    now (`fingerprint`, see assets.qualify.policy_fingerprint), and every table a report reads
    built from that screen.
    """
    screened = fetch_one(
        con,
        "SELECT list(DISTINCT policy_sha256) FROM out_qualify__occupation_qualification "
        "WHERE release_code = ?",
        [release],
    )[0]
    if not screened:
        return "it has not been screened (the qualification table holds no rows for it)"
    if screened != [fingerprint]:
        return (
            "it was screened under another qualification policy than the one configured now "
            "(the policy file, the skill fallback rules or the state living wages differ from "
            "those it was screened with: after an edit, or an update of the project), so its "
            "reports would state a policy their figures were not screened with"
        )
    if stale := tables_behind_screen(con, release):
        return (
            "tables its reports read were built from an earlier screen of it and disagree "
            f"with the screen now in the warehouse: {', '.join(stale)}"
        )
    return None


def tables_behind_screen(con: duckdb.DuckDBPyConnection, release: str) -> list[str]:
    """The tables a report reads whose copy of `release`'s screen disagrees with the screen in
    the warehouse (a run re-screened it, then stopped before the clusters and profiles), each
    with its number of rows that disagree."""
    needed = ["out_qualify__occupation_qualification", *_SCREEN_COPIES]
    if not all(table_exists(con, table) for table in needed):
        return []  # a warehouse that never got that far: nothing to disagree
    # one query: the screen is read once for the four comparisons
    counts = fetch_all(
        con,
        "WITH q AS (SELECT occupation_code, skill_tier, skill_tier_source, "
        "living_wage_margin_usd, status, reason FROM out_qualify__occupation_qualification "
        "WHERE release_code = $1 AND area_type = 'national') "
        + " UNION ALL ".join(
            f"SELECT {i} AS i, ({sql}) AS n" for i, sql in enumerate(_SCREEN_COPIES.values())
        )
        + " ORDER BY i",
        [release],
    )
    return [
        f"{table} ({n} rows)" for table, (_, n) in zip(_SCREEN_COPIES, counts, strict=True) if n
    ]


def changes_behind_previous_screen(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(release, previous release) whose change tables compare with a screen of the previous
    release that is no longer the one in the warehouse: it was re-screened afterwards (under
    the policy now used for both, say), and nothing rebuilt the later release's comparison."""
    needed = ["out_profiles__cluster_changes", "out_qualify__occupation_qualification"]
    if not all(table_exists(con, table) for table in needed):
        return []
    rows = fetch_all(
        con,
        """
        WITH screen AS (
          SELECT release_code, occupation_code, status, policy_sha256
          FROM out_qualify__occupation_qualification WHERE area_type = 'national'
        ), policy AS (
          SELECT release_code, any_value(policy_sha256) AS sha FROM screen GROUP BY 1
        )
        SELECT c.release_code, c.previous_release_code
        FROM out_profiles__cluster_changes c
        LEFT JOIN screen p
          ON p.release_code = c.previous_release_code AND p.occupation_code = c.occupation_code
        LEFT JOIN policy pn ON pn.release_code = c.release_code
        LEFT JOIN policy pp ON pp.release_code = c.previous_release_code
        GROUP BY 1, 2
        HAVING count(*) FILTER (
          WHERE c.previous_status IS DISTINCT FROM p.status
             OR c.is_policy_changed IS DISTINCT FROM (pn.sha IS DISTINCT FROM pp.sha)) > 0
        ORDER BY 1
        """,
    )
    return [(r[0], r[1]) for r in rows]


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
    decisions = applied_decisions_table(con, release)
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
INDEX_META = "ccp-index-state"


def _meta(page: Path, name: str) -> str | None:
    """The content of the page's `<meta name=...>` tag (in its head), or None."""
    with page.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    match = re.search(rf'<meta name="{re.escape(name)}" content="([^"]*)">', head)
    return match.group(1) if match else None


def rendered_fingerprint(page: Path) -> str | None:
    """The fingerprint a report page was rendered from (None: a page made before reports
    carried one, or not a report)."""
    return _meta(page, FINGERPRINT_META)


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


def stale_note(release: str, stale: list[str]) -> str:
    """The warning of a run that left `stale` reports of `release` out of date."""
    return (
        f"{len(stale)} report(s) not rendered in this run show figures the tables no longer "
        "hold (e.g. the other cluster of a reviewer's move), or were made by a version that did "
        f"not record their figures: {', '.join(stale)}. Re-render them: "
        f"`{rerender_command(release, stale)}` (ccp run does this by itself after a run with "
        "--cluster)."
    )


def rerender_command(release: str, clusters: list[str]) -> str:
    """The `ccp` command that re-renders `clusters`' reports of `release` (and the index)."""
    return f"ccp run --job render_reports --release {release} " + " ".join(
        f"--cluster {c}" for c in clusters
    )


def index_state(
    con: duckdb.DuckDBPyConnection, output: Path, release: str, stale: list[str]
) -> str | None:
    """What the release's index shows, in short: a fingerprint of its figures (the summary
    rows; the rest of the page, sources and policy, changes only with them), the reports it
    marks out of date (`stale`) and those it marks not rendered yet. None when the warehouse
    holds no profile of `release`."""
    codes, figures = fetch_one(
        con,
        "SELECT list(cluster_code ORDER BY cluster_code), "
        "CAST(sum(hash(s)::HUGEINT) AS VARCHAR) "
        "FROM out_profiles__cluster_summary s WHERE release_code = ?",
        [release],
    ) or (None, None)
    if not codes:
        return None
    absent = [c for c in codes if not (output / release / f"{c}.html").exists()]
    return f"{figures};out-of-date={','.join(stale)};not-rendered={','.join(absent)}"


def index_out_of_date(
    con: duckdb.DuckDBPyConnection, output: Path, release: str, stale: list[str]
) -> str | None:
    """What to do when the release's index in `output` no longer shows what the tables and
    reports hold (`stale`: the reports out of date now), e.g. after a UI run that re-rendered
    a report without it; None when it does, or when there is nothing to judge: no index, or
    no profile of `release` in this warehouse (the folder then comes from another one)."""
    page = output / release / "index.html"
    if not page.exists() or not table_exists(con, "out_profiles__cluster_summary"):
        return None
    now = index_state(con, output, release, stale)
    shown = _meta(page, INDEX_META)
    if now is None or shown == now:
        return None
    why = (
        "was made by an earlier version of the project, which did not record what it shows"
        if shown is None
        else "no longer matches the tables and reports (its figures, or which reports it marks "
        "out of date or not rendered, differ)"
    )
    return (
        f"the index of {release} {why}. Re-render it: materialize out_reports__index for "
        f"{release} in the UI, or `ccp run --job render_reports --release {release}`"
    )
