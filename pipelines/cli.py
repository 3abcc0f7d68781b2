"""`ccp`: run the main job from a terminal and see what the warehouse holds.

`ccp run` executes the same Dagster job the UI runs, against the same instance ($DAGSTER_HOME),
so a run started here appears in the UI's run history.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.settings import PROJECT_ROOT, Settings, SettingsError
from pipelines.warehouse_summary import (
    WarehouseBusyError,
    local_copies_not_loaded,
    out_of_date_reports,
    summary,
)

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
    from pipelines.sources.http import user_agent

    definitions = build_definitions(settings)
    jobs = sorted(j.name for j in definitions.resolve_all_job_defs() if not j.name.startswith("__"))
    if job_name not in jobs:
        print(
            f"ccp run: there is no job {job_name!r}.\nWhat to do: name one of "
            f"{', '.join(jobs)} (`ccp run --job NAME`).",
            file=sys.stderr,
        )
        return 2
    if missing := settings.missing_local_copies():
        print(
            f"ccp run: no file or folder at {'; '.join(missing)}.\nWhat to do: correct the "
            "path, or unset the setting to use the default source instead (offline the "
            "embedded data or the project's fallback, in live mode a download).\n\nNothing "
            "ran; the warehouse keeps its previous tables.",
            file=sys.stderr,
        )
        return 2
    from pipelines.preflight import policy_problem

    if problem := policy_problem(settings):
        print(
            f"ccp run: {problem}\n\nNothing ran; the warehouse keeps its previous tables.",
            file=sys.stderr,
        )
        return 2
    if job_name != "refresh_warehouse" and (unloaded := local_copies_not_loaded(settings)):
        print(
            f"Note: the {job_name} job starts from the sources already in the warehouse, and "
            f"{'; '.join(unloaded)} is not among them: this run goes without it. `ccp run` "
            "(the main job) loads it, then rebuilds everything from it.",
            file=sys.stderr,
        )
    job = definitions.resolve_job_def(job_name)
    started = time.monotonic()
    # The main job reads the release from the OEWS source: one it does not hold fails there,
    # after a screenful of logs; say so before anything runs.
    asked, backfill = release, settings.oews_xlsx_local_path or settings.oews_xlsx_year
    try:
        if settings.source_mode == "live" and job_name == "refresh_warehouse":
            user_agent(settings.contact)  # a live refresh downloads: refuse before it starts
        if not release or (job_name == "refresh_warehouse" and not backfill):
            release = SourcesResource.from_settings(settings).current_release()
    except SourceError as err:
        if err.source == "settings":
            print(f"ccp run: a live run needs a contact address:\n{err}", file=sys.stderr)
        else:
            print(f"Could not tell which OEWS release to run:\n{err}", file=sys.stderr)
        if job_name != "refresh_warehouse":
            print(
                f"The {job_name} job itself downloads nothing: name a release the warehouse "
                f"holds (`ccp info` lists them), e.g. `ccp run --job {job_name} --release "
                "2025A01`, and it runs without asking the source.",
                file=sys.stderr,
            )
        print("\nNothing ran; the warehouse keeps its previous tables.", file=sys.stderr)
        return 2 if err.source == "settings" else 1
    if asked and asked != release:
        rebuild = (
            f"; to rebuild what the warehouse already has of {asked} from the screen on, `ccp "
            f"run --job qualify_occupations --release {asked}`, or re-render its reports with "
            f"`ccp run --job render_reports --release {asked}`"
        )
        if asked > release and settings.source_mode == "live":
            how, rebuild = (
                f"BLS has not published {asked} yet (its oe.release names {release}); the "
                "new-release sensor starts a run when it does",
                "",
            )
        elif asked > release:  # newer than the snapshot: only BLS's live files can have it
            how, rebuild = (
                f"{asked} is newer than what this source holds: in live mode "
                "(CCP_SOURCE_MODE=live, CCP_CONTACT=you@example.org) `ccp run` reads BLS's "
                "current release",
                "",
            )
        else:
            how = (
                "for an earlier year, point the history backfill at BLS's national workbook "
                f"(CCP_OEWS_XLSX_LOCAL_PATH=.../national_M{asked[:4]}_dl.xlsx, or "
                f"CCP_OEWS_XLSX_YEAR={asked[:4]} in live mode)"
            )
        print(
            f"ccp run: the configured OEWS source holds release {release}, not {asked}, and no "
            "history backfill is configured.\nWhat to do: run `ccp run` without --release for "
            f"{release}; {how}{rebuild}.\n\n"
            "Nothing ran; the warehouse keeps its previous tables.",
            file=sys.stderr,
        )
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
    print(summary(settings, release))
    return 0


def root_error(error: Any) -> Any:
    """The error that caused a step failure (a SerializableErrorInfo), not Dagster's wrapper
    around it ("Error occurred while executing op ...")."""
    while error.cause is not None and error.cls_name and error.cls_name.startswith("Dagster"):
        error = error.cause
    return error


def error_message(error: Any) -> str:
    """The message of the error that caused a step failure; our errors start with the source
    in brackets, so the exception's class name before them is dropped."""
    message = root_error(error).message.strip()
    head, sep, rest = message.partition(": ")
    return rest if sep and rest.startswith("[") and " " not in head else message


def failure_lines(result: ExecuteInProcessResult) -> list[str]:
    """What failed and why, and what the run did change before it stopped: steps that
    succeeded swapped their tables in (each passed its own contract); the failed ones did not."""
    lines, not_run = [], []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error and root_error(error).cls_name == "RunStoppedError":
                not_run.append(event.step_key)
                continue
            lines.append(
                f"\n{event.step_key}: {error_message(error) if error else 'unknown error'}"
            )
    if not_run:
        lines.append(
            f"\nNot run, as the warehouse was locked: {len(not_run)} later step(s) "
            f"({', '.join(not_run[:4])}{', …' if len(not_run) > 4 else ''})."
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


def release_code(value: str) -> str:
    """`--release` as argparse takes it: `releases.check_release_code`, its message kept."""
    from pipelines.releases import check_release_code

    try:
        return check_release_code(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
        type=release_code,
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
