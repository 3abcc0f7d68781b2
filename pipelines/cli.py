"""`ccp`: run the main job from a terminal and see what the warehouse holds.

`ccp run` executes the same Dagster job the UI runs, against the same instance ($DAGSTER_HOME),
so a run started here appears in the UI's run history.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.reporting.freshness import index_out_of_date, rerender_command, stale_reports
from pipelines.review_tables import unapplied_decisions_note
from pipelines.settings import PROJECT_ROOT, Settings, SettingsError
from pipelines.warehouse import fetch_one

ASSIGNED = "out_clusters__occupation_cluster"

if TYPE_CHECKING:
    from dagster import ExecuteInProcessResult

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")
# sha256 of each dagster.yaml the project shipped before this one: a copy equal to one of them was
# never edited, so it is safe to replace with the current settings.
EARLIER_DAGSTER_YAML_SHA256 = {
    "2d62e89e7875a2eb98cdfd9348a3b9a3b076704ed0ed7590f2ae2925aa333fdd",  # op-level pools
}


# INFO, not Dagster's default DEBUG: a terminal user wants progress, not every event.
INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def dagster_home() -> Path:
    """$DAGSTER_HOME, or the project's var/dagster_home (one for every warehouse)."""
    return Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / "var" / "dagster_home")


def ensure_dagster_home(settings: Settings) -> Path:
    """Use $DAGSTER_HOME, or the project's var/dagster_home (wherever the warehouse is), with
    our dagster.yaml.

    The copy follows the project's file while it is ours: an unedited earlier version, or one
    that still starts with our header line. Any other copy is the user's: kept, with a note.
    """
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    ours, copy = DAGSTER_YAML.read_text(encoding="utf-8"), home / "dagster.yaml"
    current = copy.read_text(encoding="utf-8") if copy.exists() else None
    if current != ours:
        if (
            current is None
            or hashlib.sha256(current.encode()).hexdigest() in EARLIER_DAGSTER_YAML_SHA256
            or current.split("\n", 1)[0] == ours.split("\n", 1)[0]
        ):
            part = copy.with_name("dagster.yaml.part")
            part.write_text(ours, encoding="utf-8")
            part.replace(copy)
        else:
            print(
                f"note: keeping your {copy} (it differs from {DAGSTER_YAML}; compare them if "
                "runs do not queue one at a time)",
                file=sys.stderr,
            )
    os.environ["DAGSTER_HOME"] = str(home)
    return home


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


def summary(settings: Settings) -> str:
    """What the warehouse holds: tables with row counts, releases, the national total."""
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
        if "out_qualify__occupation_qualification" in names:
            (newest,) = fetch_one(con, "SELECT max(release_code) FROM stg_oews__release") or ("",)
            lines += ["", f"Qualification (national, {newest}):"]
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
            (assigned,) = fetch_one(con, f"SELECT max(release_code) FROM {ASSIGNED}") or ("",)
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
        lines += _reports_lines(con, settings.output)
        return "\n".join(lines)
    finally:
        con.close()


def _reports_lines(con: duckdb.DuckDBPyConnection, output: Path) -> list[str]:
    """Where the reports are: the newest release folder's index, how many pages it has, and
    which of them show figures the warehouse no longer holds."""
    releases = sorted(p for p in output.glob("*/index.html")) if output.exists() else []
    if not releases:
        return ["", f"Reports: none yet in {output}."]
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


def run(
    settings: Settings,
    job_name: str,
    release: str | None = None,
    clusters: list[str] | None = None,
) -> int:
    ensure_dagster_home(settings)
    from dagster import DagsterInstance

    from pipelines.definitions import build_definitions
    from pipelines.releases import run_job
    from pipelines.resources import SourcesResource
    from pipelines.sources.files import SourceError

    definitions = build_definitions(settings)
    jobs = sorted(j.name for j in definitions.resolve_all_job_defs() if not j.name.startswith("__"))
    if job_name not in jobs:
        print(
            f"ccp run: there is no job {job_name!r}.\nWhat to do: name one of "
            f"{', '.join(jobs)} (`ccp run --job NAME`).",
            file=sys.stderr,
        )
        return 2
    job = definitions.resolve_job_def(job_name)
    started = time.monotonic()
    try:
        release = release or SourcesResource.from_settings(settings).current_release()
    except SourceError as err:
        print(f"Could not tell which OEWS release to run:\n{err}", file=sys.stderr)
        print("\nNothing ran; the warehouse keeps its previous tables.", file=sys.stderr)
        return 1
    print(f"OEWS release (partition): {release}", file=sys.stderr)
    with DagsterInstance.get() as instance:
        try:
            result = run_job(
                job,
                instance,
                release,
                only_clusters=clusters,
                run_config=INFO_LOGS,
            )
        except ValueError as err:
            print(f"ccp run: {err}", file=sys.stderr)
            return 2
        first = None
        stale = out_of_date_reports(settings, release) if result.success and clusters else []
        if stale:  # e.g. the other cluster of a reviewer's move: re-rendered, not left behind
            print(
                f"\n{len(stale)} report(s) the run was not asked to render are out of date "
                f"({', '.join(stale)}: the run changed their figures, e.g. as the other cluster "
                "of a reviewer's move, or an earlier version made them): re-rendering them, so "
                "that no report disagrees with the index.",
                file=sys.stderr,
            )
            first = result.run_id
            result = run_job(
                definitions.resolve_job_def("render_reports"),
                instance,
                release,
                only_clusters=stale,
                run_config=INFO_LOGS,
            )
    seconds = time.monotonic() - started
    if first and not result.success:
        print(
            f"\nRun {first} succeeded: its tables and the reports it rendered are written. "
            f"Re-rendering the other reports (run {result.run_id}) failed; the reports it did "
            f"not write are as they were, out of date (`ccp info` lists them).",
            file=sys.stderr,
        )
    if not result.success:
        print(f"\nRun {result.run_id} FAILED after {seconds:.1f} s.", file=sys.stderr)
        print("\n".join(failure_lines(result)), file=sys.stderr)
        return 1
    runs = f"Runs {first} and {result.run_id}" if first else f"Run {result.run_id}"
    print(f"\n{runs} succeeded in {seconds:.1f} s.\n")
    print(summary(settings))
    return 0


def error_message(error: Any) -> str:
    """The message of the error that caused a step failure (a SerializableErrorInfo), not of
    Dagster's wrapper around it ("Error occurred while executing op ..."); our errors start
    with the source in brackets, so the exception's class name before them is dropped."""
    while error.cause is not None and error.cls_name and error.cls_name.startswith("Dagster"):
        error = error.cause
    message = error.message.strip()
    head, sep, rest = message.partition(": ")
    return rest if sep and rest.startswith("[") and " " not in head else message


def failure_lines(result: ExecuteInProcessResult) -> list[str]:
    """What failed and why, and what the run did change before it stopped: steps that
    succeeded swapped their tables in (each passed its own contract); the failed ones did not."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            lines.append(
                f"\n{event.step_key}: {error_message(error) if error else 'unknown error'}"
            )
    for check in result.get_asset_check_evaluations():
        if not check.passed and check.severity.value == "ERROR":
            shown = {
                k: v.value for k, v in check.metadata.items() if k in ("failing_rows", "failures")
            }
            lines.append(
                f"\ncheck {check.asset_key.to_user_string()} {check.check_name} failed "
                f"({', '.join(f'{k} {v}' for k, v in shown.items()) or 'see the UI'})"
            )
    written = sorted(
        {
            event.asset_key.to_user_string()
            for event in result.get_asset_materialization_events()
            if event.asset_key is not None
        }
    )
    if written:
        lines.append(
            "\nUpdated by this run before it stopped (each passed its contract): "
            f"{', '.join(written)}.\nEvery other table and report keeps its previous content."
        )
    else:
        lines.append("\nThe warehouse keeps its previous tables.")
    return lines


# The code location's jobs, named so `--help` need not load Dagster (tests/test_cli.py: equal).
JOB_NAMES = (
    "refresh_warehouse",
    "qualify_occupations",
    "assign_clusters",
    "apply_review_decisions",
    "render_reports",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ccp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="materialize every asset (the main job)")
    run_p.add_argument(
        "--job",
        default="refresh_warehouse",
        help=f"job to run: {', '.join(JOB_NAMES)} (default: refresh_warehouse, every asset; "
        "the README's table of jobs says what each does)",
    )
    run_p.add_argument(
        "--release",
        help="OEWS release (partition) to build, e.g. 2024A01; default: the release the "
        "configured source holds (the history backfill's year when one is set)",
    )
    run_p.add_argument(
        "--cluster",
        action="append",
        dest="clusters",
        metavar="SLUG",
        help="render this cluster's report, not all 14 (repeatable; e.g. after a reviewer "
        "decision); any other report whose figures the run changed is re-rendered after it",
    )
    sub.add_parser("info", help="show what the warehouse holds")
    sub.add_parser("settings", help="show every setting, its value and environment variable")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"Settings error: {err}", file=sys.stderr)
        return 2
    if args.command == "run":
        return run(settings, args.job, args.release, args.clusters)
    if args.command == "info":
        try:
            print(summary(settings))
        except WarehouseBusyError as err:
            print(err, file=sys.stderr)
            return 1
        return 0
    rows = [
        *settings.describe(),
        (
            "DAGSTER_HOME",
            str(dagster_home()),
            "Dagster's instance: run history, schedules (shared by every warehouse)",
        ),
    ]
    for env, value, description in rows:  # one block per setting: values can be long URLs
        print(f"{env}\n    {value}\n    {description}")
    return 0


def console_main() -> None:
    """The `ccp` command: `main`, then exit without tearing down the interpreter.

    Everything is written and closed when `main` returns; skipping the teardown keeps
    duckdb-python 2.0's nanobind "leaked instances" report (a binding issue at shutdown, not a
    leak of ours) out of a user's terminal.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console_main()
