"""What `ccp info` and the end of `ccp run` print: the warehouse's tables, releases, national
screen and clusters, and where the reports are and which are out of date."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb

from pipelines.reporting.freshness import (
    changes_behind_previous_screen,
    index_out_of_date,
    rerender_command,
    stale_reports,
    tables_behind_screen,
)
from pipelines.review_tables import unapplied_decisions_note
from pipelines.settings import Settings
from pipelines.warehouse import fetch_all, fetch_one, table_exists

ASSIGNED = "out_clusters__occupation_cluster"


class WarehouseBusyError(RuntimeError):
    """Another process is writing the warehouse, so it cannot be read now."""


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse for reading; WarehouseBusyError while another process writes it."""
    try:
        return duckdb.connect(
            str(path), read_only=True, config={"autoload_known_extensions": False}
        )
    except duckdb.IOException as err:
        if "lock" not in str(err).lower():
            raise
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(err))
        who = f"process {holder.group(2)} ({holder.group(1)})" if holder else "another process"
        raise WarehouseBusyError(
            f"[warehouse] {path} is being written by {who}, usually a pipeline run; DuckDB "
            "lets no other process open it meanwhile.\nWhat to do: run `ccp info` again when "
            "that run has finished."
        ) from None


def summary(settings: Settings, release: str | None = None) -> str:
    """What the warehouse holds: tables with row counts, releases, the national total; then
    the screen, the clusters and the reports of `release` (default: the newest), so that a
    run of an earlier release ends with that release's figures and index."""
    path = settings.warehouse
    if not path.exists():
        return f"No warehouse yet at {path}; run `ccp run`."
    con = open_read_only(path)
    try:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name NOT LIKE '%\\_\\_new' ESCAPE '\\' "
            "AND NOT starts_with(table_name, '_') ORDER BY table_name"
        ).fetchall()
        lines = [f"Warehouse: {path} ({path.stat().st_size / 1e6:.1f} MB)", "", "Tables:"]
        for (name,) in tables:
            count = fetch_one(con, f'SELECT count(*) FROM "{name}"')
            lines.append(f"  {name:<42} {count[0] if count else 0:>9,} rows")
        if any(t[0] == "stg_oews__release" for t in tables):
            lines += ["", "Releases:"]
            for code, name, label, cells, total in con.execute(
                "SELECT r.release_code, r.release_name, r.source_label, r.cell_count, "
                "e.employment_count FROM stg_oews__release r LEFT JOIN stg_oews__estimates e "
                "ON e.release_code = r.release_code AND e.area_code = '0000000' "
                "AND e.industry_code = '000000' AND e.occupation_code = '000000' ORDER BY 1"
            ).fetchall():
                lines.append(
                    f"  {code} {name}: {cells:,} estimate cells; national employment "
                    f"{total:,}; from {label}"
                )
        names = {t[0] for t in tables}
        if partial := partly_loaded(con, names):
            lines += [
                "",
                f"Partly loaded (a run stopped before its release row): {', '.join(partial)}. "
                "The reports don't show it; `ccp run --release "
                f"{partial[-1]}` loads it whole once its source is reachable again.",
            ]
        if "out_qualify__occupation_qualification" in names:
            (newest,) = (
                (release,)
                if release
                else (fetch_one(con, "SELECT max(release_code) FROM stg_oews__release") or ("",))
            )
            lines += ["", f"Qualification (national, {newest}):"]
            policy = fetch_one(
                con,
                "SELECT any_value(wage_statistic), any_value(threshold_label) "
                "FROM out_qualify__occupation_qualification "
                "WHERE area_type = 'national' AND release_code = ?",
                [newest],
            )
            if policy and policy[0]:
                lines.append(f"  screened on the {policy[0]} wage against {policy[1]}")
            for status, occupations, jobs, sources in con.execute(
                "SELECT status, count(*), coalesce(sum(employment_count), 0), "
                "string_agg(DISTINCT CASE skill_tier_source WHEN 'ep' THEN 'BLS EP' "
                "WHEN 'job_zone' THEN 'O*NET Job Zones' ELSE 'built-in SOC-group rules' END, ', ') "
                "FROM out_qualify__occupation_qualification WHERE area_type = 'national' "
                "AND release_code = ? GROUP BY 1 ORDER BY 1",
                [newest],
            ).fetchall():
                lines.append(
                    f"  {status:<13} {occupations:>4} occupations, {int(jobs):>12,} jobs "
                    f"(skill tier from: {sources})"
                )
        if ASSIGNED in names:
            (assigned,) = (
                (release,)
                if release
                else (fetch_one(con, f"SELECT max(release_code) FROM {ASSIGNED}") or ("",))
            )
            lines += ["", f"Career Clusters ({assigned}; qualifying occupations / all assigned):"]
            for cluster, qualifying, total in con.execute(
                "SELECT cluster_name, count(DISTINCT occupation_code) FILTER "
                "(WHERE status = 'qualifies'), count(DISTINCT occupation_code) "
                f"FROM {ASSIGNED} WHERE release_code = ? GROUP BY 1 ORDER BY 1",
                [assigned],
            ).fetchall():
                lines.append(f"  {cluster:<32} {qualifying:>4} / {total}")
            if note := unapplied_decisions_note(con, assigned):
                lines.append(f"  Reviewer decisions: {note}.")
            if behind := tables_behind_screen(con, assigned):
                lines.append(
                    f"  Built from an earlier screen of {assigned} than the one in the warehouse "
                    f"(a run re-screened it, then stopped): {', '.join(behind)}. These figures "
                    "and the reports still show the earlier screen; `ccp run --job "
                    f"qualify_occupations --release {assigned}` rebuilds them from the screen on."
                )
        for later, earlier in changes_behind_previous_screen(con):
            lines += [
                "",
                f"What changed in {later} compares with an earlier screen of {earlier} (it was "
                f"re-screened since): `ccp run --job apply_review_decisions --release {later}` "
                "rebuilds the comparison and its reports.",
            ]
        lines += _reports_lines(con, settings.output, release)
        return "\n".join(lines)
    finally:
        con.close()


def local_copies_not_loaded(settings: Settings) -> list[str]:
    """`CCP_X_LOCAL_PATH=path` for each local copy of a non-OEWS source that is configured but
    not what the warehouse last loaded: only the main job (refresh_warehouse) reads sources, so
    a job that starts from the warehouse (qualify_occupations, …) would run without it."""
    if not settings.warehouse.exists():
        return []
    try:
        con = open_read_only(settings.warehouse)
    except WarehouseBusyError:
        return []
    try:
        if not table_exists(con, "raw_sources__files"):
            return []
        found = []
        for source in ("ep", "onet", "crosswalk", "naics", "soc"):
            name = f"{source}_local_path"
            value = getattr(settings, name)
            if value is None:
                continue
            uri = Path(settings.resolve(value)).resolve().as_uri()
            loaded = fetch_one(
                con,
                "SELECT count(*) FROM raw_sources__files WHERE source = ? AND is_used "
                "AND starts_with(url, ?)",
                [source, uri],
            )
            if not loaded or not loaded[0]:
                found.append(f"{settings.env_var(name)}={value}")
        return found
    finally:
        con.close()


def partly_loaded(con: duckdb.DuckDBPyConnection, names: set[str]) -> list[str]:
    """Releases whose estimates or raw files a run wrote but whose release row (the last
    staging step's) it never did: a run that stopped halfway, e.g. on a later source."""
    found = [t for t in ("stg_oews__estimates", "raw_oews__files") if t in names]
    if not found:
        return []
    held = (
        "SELECT release_code FROM stg_oews__release"
        if "stg_oews__release" in names
        else "SELECT '' WHERE false"
    )
    union = " UNION ".join(f"SELECT DISTINCT release_code FROM {t}" for t in found)
    rows = fetch_all(
        con, f"SELECT release_code FROM ({union}) WHERE release_code NOT IN ({held}) ORDER BY 1"
    )
    return [r[0] for r in rows]


def _reports_lines(
    con: duckdb.DuckDBPyConnection, output: Path, wanted: str | None = None
) -> list[str]:
    """Where the reports are: the index of release `wanted` (default: the newest release
    folder), how many pages it has, and which of them show figures the warehouse no longer
    holds."""
    releases = sorted(p for p in output.glob("*/index.html")) if output.exists() else []
    if wanted:
        releases = [p for p in releases if p.parent.name == wanted]
    if not releases:
        return ["", f"Reports: none yet in {output}{f' for {wanted}' if wanted else ''}."]
    index, release = releases[-1], releases[-1].parent.name
    pages = [p for p in index.parent.glob("*.html") if p.name != "index.html"]
    lines = [
        "",
        f"Reports ({len(pages)} Career Cluster reports, {release}; open in a browser):",
        f"  {index}",
    ]
    if stale := stale_reports(con, output, release):
        lines.append(
            f"  Out of date (made from other figures than the warehouse holds now, or by an "
            f"earlier version): {', '.join(stale)}; `{rerender_command(release, stale)}` "
            "re-renders them."
        )
    if note := index_out_of_date(con, output, release, stale):
        lines.append(f"  {note[0].upper()}{note[1:]}.")
    return lines


def out_of_date_reports(settings: Settings, release: str) -> list[str]:
    """Clusters whose report of `release` in the output folder shows figures the warehouse no
    longer holds (see pipelines/reporting/freshness.py)."""
    try:
        con = open_read_only(settings.warehouse)
    except WarehouseBusyError:  # another process took the warehouse as soon as the run ended
        print(
            "\nCould not check the other reports: another process is writing the warehouse. "
            "When it has finished, `ccp info` lists any report whose figures changed.",
            file=sys.stderr,
        )
        return []
    try:
        return stale_reports(con, settings.output, release)
    finally:
        con.close()
