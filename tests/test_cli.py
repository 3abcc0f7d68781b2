"""`ccp` as a user runs it: a subprocess, its exit code and what it prints."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import yaml

from pipelines.policy.qualification import DEFAULT_POLICY_PATH as POLICY
from pipelines.settings import PROJECT_ROOT
from tests.support.loopback import LoopbackServer
from tests.support.pipeline import ccp

UNREACHABLE = "http://127.0.0.1:9/oe/"  # the discard port: nothing listens there


def test_run_prints_where_the_warehouse_is_and_what_it_holds(tmp_path: Path) -> None:
    done = ccp(tmp_path, "run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Warehouse: {tmp_path / 'warehouse.duckdb'}" in done.stdout
    assert "stg_oews__estimates                          370,172 rows" in done.stdout
    assert "national employment 155,495,730" in done.stdout
    assert "qualifies      424 occupations" in done.stdout
    assert "DEBUG" not in done.stderr
    info = ccp(tmp_path, "info")
    assert info.returncode == 0 and "Career Clusters" in info.stdout
    # The run is in the Dagster instance the UI reads.
    assert (tmp_path / "dagster_home" / "dagster.yaml").exists()

    # Rendering a release the warehouse lacks: the reason, not a LookupError from deep inside,
    # no folder for it, and no partition left behind for the UI to list.
    missing = ccp(tmp_path, "run", "--job", "render_reports", "--release", "2023A01")
    assert missing.returncode == 1
    tail = missing.stderr[missing.stderr.index("FAILED after") :]
    assert "[reports] release 2023A01 has no profile tables in the warehouse (it has: 2025A01)" in (
        tail
    )
    assert "Traceback" not in tail and "DagsterExecutionStepExecutionError" not in tail
    assert "The warehouse keeps its previous tables." in tail  # nothing was updated
    assert not (tmp_path / "reports" / "2023A01").exists()
    assert partitions(tmp_path) == ["2025A01"]

    # While another process writes the warehouse, `ccp info` says so instead of a traceback.
    holder = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        busy = ccp(tmp_path, "info")
    finally:
        holder.close()
    assert busy.returncode == 1 and "Traceback" not in busy.stderr
    assert f"is being written by process {os.getpid()}" in busy.stderr


def partitions(tmp: Path) -> list[str]:
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(tmp / "dagster_home")) as instance:
        return sorted(instance.get_dynamic_partitions("oews_release"))


def test_unknown_job_lists_the_jobs(tmp_path: Path) -> None:
    done = ccp(tmp_path, "run", "--job", "refresh")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "there is no job 'refresh'.\nWhat to do: name one of apply_review_decisions" in (
        done.stderr
    )
    assert "__ASSET_JOB" not in done.stderr


def test_run_help_names_the_code_locations_jobs(tmp_path: Path) -> None:
    from pipelines.cli import JOB_NAMES
    from pipelines.definitions import defs

    jobs = {j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")}
    assert set(JOB_NAMES) == jobs
    done = ccp(tmp_path, "run", "--help")
    assert done.returncode == 0
    assert ", ".join(JOB_NAMES) in " ".join(done.stdout.split())


def test_a_live_refresh_without_a_contact_is_a_settings_error(tmp_path: Path) -> None:
    for release in ((), ("--release", "2025A01")):
        done = ccp(tmp_path, "run", *release, CCP_SOURCE_MODE="live", CCP_BLS_BASE_URL=UNREACHABLE)
        assert done.returncode == 2, release  # a setting it cannot use, as the README says
        assert "CCP_CONTACT" in done.stderr and "keeps its previous tables" in done.stderr


def test_a_job_that_downloads_nothing_says_how_to_run_without_the_source(tmp_path: Path) -> None:
    """Live, with BLS unreachable, render_reports cannot ask which release is current: it says
    so (exit 1) and that naming the release runs it without asking."""
    done = ccp(
        tmp_path,
        "run",
        "--job",
        "render_reports",
        CCP_SOURCE_MODE="live",
        CCP_CONTACT="ccp-tests@example.org",
        CCP_BLS_BASE_URL=UNREACHABLE,
        CCP_HTTP_MAX_RETRIES="0",
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Could not tell which OEWS release to run" in done.stderr
    assert "`ccp run --job render_reports --release 2025A01`" in done.stderr


def test_a_release_the_source_does_not_hold_stops_before_any_run(tmp_path: Path) -> None:
    """Offline, without the history backfill, only the embedded 2025A01 can be ingested: the
    main job for another release says so, and what to do, before anything runs. (Run from
    another folder: the project's own files, such as the policy, are found all the same.)"""
    done = ccp(tmp_path, "run", "--release", "2024A01", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "holds release 2025A01, not 2024A01, and no history backfill is configured" in (
        done.stderr
    )
    assert "CCP_OEWS_XLSX_LOCAL_PATH=.../national_M2024_dl.xlsx" in done.stderr
    assert "Nothing ran" in done.stderr and not (tmp_path / "warehouse.duckdb").exists()
    # a newer release than the snapshot's: live mode, not a backfill of "an earlier year"
    newer = ccp(tmp_path, "run", "--release", "2026A01")
    assert newer.returncode == 1 and "holds release 2025A01, not 2026A01" in newer.stderr
    assert "2026A01 is newer than what this source holds: in live mode" in newer.stderr
    assert "national_M2026" not in newer.stderr and "earlier year" not in newer.stderr


def test_a_local_copy_that_is_not_there_stops_before_any_run(tmp_path: Path) -> None:
    done = ccp(tmp_path, "run", CCP_SOC_LOCAL_PATH=str(tmp_path / "nope.xlsx"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"no file or folder at CCP_SOC_LOCAL_PATH={tmp_path / 'nope.xlsx'}" in done.stderr
    assert "Nothing ran" in done.stderr and not (tmp_path / "warehouse.duckdb").exists()


def test_a_policy_the_screen_would_refuse_stops_before_any_run(tmp_path: Path) -> None:
    """A policy file that is not there, or that names a state living-wage file that is not,
    is said before the run ingests anything (the run stopped at the screen, minutes later)."""
    done = ccp(tmp_path, "run", CCP_POLICY_PATH=str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"[policy] {tmp_path / 'nope.yaml'} does not exist." in done.stderr
    assert "CCP_POLICY_PATH" in done.stderr
    assert "Nothing ran" in done.stderr and not (tmp_path / "warehouse.duckdb").exists()
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    policy["living_wage"]["state_thresholds_csv"] = "state_wages.csv"  # from the project folder
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    done = ccp(tmp_path, "run", CCP_POLICY_PATH=str(tmp_path / "policy.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"[living wage CSV] {PROJECT_ROOT / 'state_wages.csv'} does not exist" in done.stderr
    assert "a relative path is read from the project folder" in done.stderr
    assert "Nothing ran" in done.stderr and not (tmp_path / "warehouse.duckdb").exists()


def test_settings_typo_is_reported(tmp_path: Path) -> None:
    done = ccp(tmp_path, "settings", CCP_SOURCE_MOD="live")
    assert done.returncode == 2
    assert "Did you mean CCP_SOURCE_MODE?" in done.stderr


def test_instance_settings_follow_the_project_unless_the_user_took_them_over(
    tmp_path: Path, monkeypatch
) -> None:
    from pipelines.cli import DAGSTER_YAML, ensure_dagster_home
    from pipelines.settings import Settings

    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings = Settings.from_env(environ={})
    ensure_dagster_home(settings)
    copy, ours = home / "dagster.yaml", DAGSTER_YAML.read_text(encoding="utf-8")
    assert copy.read_text(encoding="utf-8") == ours
    # the unedited copy an earlier version made (op-level pools) follows the project's file
    earlier = (
        "# Instance settings, copied to $DAGSTER_HOME/dagster.yaml by `ccp` / `make` (see README)."
        "\n# DuckDB allows one writing process per file, so runs queue one at a time and every\n"
        '# DuckDB-touching step shares the "duckdb" pool with a limit of 1.\n'
        "concurrency:\n  runs:\n    max_concurrent_runs: 1\n  pools:\n    default_limit: 1\n"
        "telemetry:\n  enabled: false\n"
    )
    copy.write_text(earlier, encoding="utf-8")
    ensure_dagster_home(settings)
    assert copy.read_text(encoding="utf-8") == ours and "granularity: run" in ours
    # the same earlier copy with an edit is the user's: kept
    copy.write_text(earlier.replace("enabled: false", "enabled: true"), encoding="utf-8")
    ensure_dagster_home(settings)
    assert "enabled: true" in copy.read_text(encoding="utf-8")
    # a copy whose header line the user removed is theirs: kept as it is
    copy.write_text("telemetry:\n  enabled: true\n", encoding="utf-8")
    ensure_dagster_home(settings)
    assert copy.read_text(encoding="utf-8") == "telemetry:\n  enabled: true\n"


def test_a_release_code_that_is_not_one_is_refused(tmp_path: Path) -> None:
    done = ccp(tmp_path, "run", "--release", "May2024")
    assert done.returncode == 2
    assert "'May2024' is not an OEWS release code" in done.stderr and "2024A01" in done.stderr


def test_a_release_bls_has_not_published_yet_is_named_so_in_live_mode(
    tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    """Live mode, BLS's oe.release still at May 2025: asking for 2026A01 says BLS has not
    published it, not how to backfill an earlier year or rebuild what the warehouse has."""
    from tests.test_automation import release_file

    loopback_server.add("/oe/oe.release", release_file("2025A01", "May 2025"))
    done = ccp(
        tmp_path,
        "run",
        "--release",
        "2026A01",
        CCP_SOURCE_MODE="live",
        CCP_CONTACT="ccp-tests@example.org",
        CCP_BLS_BASE_URL=loopback_server.url("/oe/"),
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "BLS has not published 2026A01 yet (its oe.release names 2025A01)" in done.stderr
    assert "earlier year" not in done.stderr and "qualify_occupations" not in done.stderr


def test_a_job_that_reads_no_source_says_a_new_local_copy_is_not_used(tmp_path: Path) -> None:
    """After editing the policy to use EP, a researcher sets CCP_EP_LOCAL_PATH and runs the
    qualify job, which starts from the warehouse: it says the copy is not loaded, and how."""
    import shutil

    from tests.support.pipeline import shared_embedded_build

    shutil.copy(shared_embedded_build().warehouse, tmp_path / "warehouse.duckdb")
    ep = Path(__file__).resolve().parents[2] / "shared" / "data" / "ep" / "occupation_2024-34.xlsx"
    done = ccp(tmp_path, "run", "--job", "qualify_occupations", CCP_EP_LOCAL_PATH=str(ep))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "Note: the qualify_occupations job starts from the sources already in the warehouse, "
        f"and CCP_EP_LOCAL_PATH={ep} is not among them"
    ) in done.stderr
    assert "`ccp run` (the main job) loads it" in done.stderr
    quiet = ccp(tmp_path, "run", "--job", "qualify_occupations")
    assert quiet.returncode == 0 and "Note: the" not in quiet.stderr


def test_the_ui_starts_with_the_sources_release_as_a_partition(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """`make dev`'s first step adds the release the configured source holds (offline, the
    embedded 2025A01), so a first-time user need not type a partition code the UI does not
    explain; once, and a settings typo stops it with the message."""
    from dagster import DagsterInstance

    from pipelines.preflight import prepare_ui, prepare_ui_main
    from pipelines.settings import Settings

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    settings = Settings.from_env(environ={"CCP_CACHE_DIR": str(tmp_path / "cache")})
    assert prepare_ui(settings) == "2025A01"
    assert "Added OEWS release 2025A01 as a partition" in capsys.readouterr().err
    with DagsterInstance.get() as instance:
        assert instance.get_dynamic_partitions("oews_release") == ["2025A01"]
    assert prepare_ui(settings) is None  # already there
    # live, with BLS out of reach: a note, and the UI starts all the same
    live = Settings.from_env(
        environ={
            "CCP_CACHE_DIR": str(tmp_path / "cache"),
            "CCP_SOURCE_MODE": "live",
            "CCP_CONTACT": "ccp-tests@example.org",
            "CCP_BLS_BASE_URL": UNREACHABLE,
        }
    )
    assert prepare_ui(live) is None
    assert "note: no release partition added for the UI" in capsys.readouterr().err
    for key in [k for k in os.environ if k.startswith("CCP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CCP_SOURCE_MOD", "live")
    assert prepare_ui_main() == 2
    assert "Did you mean CCP_SOURCE_MODE?" in capsys.readouterr().err
