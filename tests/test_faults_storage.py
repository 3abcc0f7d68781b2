"""Storage faults: a warehouse locked by another process, a full disk under the reports, and a
run killed mid-materialization followed by a re-run. Real processes, a real tmpfs, SIGKILL."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.reporting.render import fmt_when
from pipelines.settings import Settings
from tests.support.faults import (
    NATIONAL_EMPLOYMENT,
    REPORT_EPOCH,
    Case,
    assert_explained,
    file_digests,
    leftovers,
    run_job,
)
from tests.support.loopback import Response
from tests.support.pipeline import failure_text, read

CCP = str(Path(sys.executable).with_name("ccp"))
HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # a write connection: DuckDB's file lock, nothing written
print("locked", flush=True)
time.sleep(60)
"""
FREE_BYTES = 64 * 1024


def test_locked_warehouse_names_the_process_and_changes_nothing(fault: Case) -> None:
    settings = fault.settings(lock_wait_s=0.0)  # every step would wait; waiting is tested elsewhere
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(settings.warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = run_job(settings)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    assert_explained(
        failure_text(result), "warehouse", f"is locked by process {holder.pid}", "one writing"
    )
    fault.assert_intact()


@contextlib.contextmanager
def small_disk(folder: Path, size: int) -> Iterator[bool]:
    """A tmpfs of `size` bytes mounted on `folder`; yields False where mounting is refused."""
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]
    try:
        mounted = subprocess.run(mount, capture_output=True).returncode == 0
    except OSError:  # no mount command
        mounted = False
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """RLIMIT_FSIZE on this process: writing past `limit` bytes fails with EFBIG (the fallback
    where no tmpfs can be mounted: a real failing write, not a mock)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an OSError instead of a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def tmpfs_bytes(folder: Path) -> int:
    """Bytes the files under `folder` take on a tmpfs (whole 4 KiB pages)."""
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in folder.rglob("*") if p.is_file())


def test_full_disk_fails_the_report_stage_and_keeps_the_reports(
    fault: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous reports fill a small disk but for 64 KiB; re-rendering them a day later
    (every page gets a new date) must fail clearly and leave every file as it was."""
    source, output = fault.baseline.root / "reports", fault.folder / "small-disk"
    with small_disk(output, tmpfs_bytes(source) + FREE_BYTES) as mounted:
        shutil.copytree(source, output, dirs_exist_ok=True)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(REPORT_EPOCH) + 86_400))
        settings = fault.settings(output_dir=output)
        if mounted:
            result, reason = run_job(settings, "render_reports"), "No space left on device"
        else:
            with file_size_limit(FREE_BYTES):
                result, reason = run_job(settings, "render_reports"), "File too large"
        assert not result.success
        assert_explained(
            failure_text(result),
            "reports",
            "could not write",
            reason,
            "the previous file is unchanged",
            "free space on the disk",
        )
        assert file_digests(output) == fault.baseline.reports
        assert leftovers(output) == []
    fault.assert_intact()


def ccp_environment(settings: Settings, epoch: str) -> dict[str, str]:
    """`settings` as the CCP_* variables a user would set, and nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCP_")}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None:
            env[Settings.env_var(name)] = str(value)
    env["DAGSTER_HOME"] = str(settings.warehouse.parent / "dagster_home")
    env["SOURCE_DATE_EPOCH"] = epoch
    return env


def run_until(settings: Settings, marker: str) -> subprocess.Popen:
    """`ccp run`, SIGKILLed as soon as its log shows `marker`."""
    proc = subprocess.Popen(
        [CCP, "run"],
        env=ccp_environment(settings, REPORT_EPOCH),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(180, proc.kill)
    watchdog.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if marker in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
    finally:
        watchdog.cancel()
        if proc.stderr is not None:
            proc.stderr.close()
    return proc


def damage_cache(settings: Settings) -> dict[str, bytes]:
    """A 0-byte oe.footnote and an oe.datatype whose bytes no longer match their sha256
    sidecar (same size), as a crash or a disk error might leave them; returns the good bytes."""
    cache = settings.cache / "oews"
    good = {n: (cache / n).read_bytes() for n in ("oe.footnote", "oe.datatype")}
    (cache / "oe.footnote").write_bytes(b"")
    (cache / "oe.datatype").write_bytes(good["oe.datatype"].replace(b"wage", b"WAGE", 1))
    return good


def retrieval_times(settings: Settings) -> dict[str, str]:
    frame = read(settings.warehouse, "SELECT file_name, retrieved_at FROM raw_oews__files")
    return dict(frame.iter_rows())


def transient_faults(case: Case) -> None:
    """oe.area: 429 with Retry-After: 1, then the file; oe.industry: 500, then the file."""
    limited = Response.error(429, b"slow down", headers={"Retry-After": "1"})
    for name, first in (("oe.area", limited), ("oe.industry", Response.error(500))):
        good = Response(body=(case.bls_files / name).read_bytes(), etag=f'"{name}-1"')
        case.server.add_sequence(f"/oe/{name}", [first, good])


def test_killed_run_then_a_rerun_through_transient_faults_restores_everything(
    fault: Case,
) -> None:
    """A bad night. `ccp run` is SIGKILLed as staging starts on the OEWS estimates (sources and
    code lists rewritten, the estimates being parsed). When it is run again, BLS rate-limits one
    file (429, Retry-After), fails once on another (500), and two cached files are damaged (one
    empty, one no longer matching its sha256). The re-run must retry, download those two again,
    and end with exactly the tables and reports of an undisturbed run."""
    server, settings = fault.server, fault.settings()
    before = retrieval_times(settings)
    killed = run_until(settings, "stg_oews__areas: ")
    assert killed.returncode == -signal.SIGKILL

    good = damage_cache(settings)
    transient_faults(fault)
    server.clear_requests()
    result = run_job(settings)
    assert result.success, failure_text(result)

    first, second = server.requests_for("/oe/oe.area")  # waited Retry-After, then a 304
    assert (first.status, second.status) == (429, 304) and second.time - first.time >= 1.0
    assert [r.status for r in server.requests_for("/oe/oe.industry")] == [500, 304]
    for name, blob in good.items():  # the damaged cache: ignored and downloaded again
        [request] = server.requests_for(f"/oe/{name}")
        assert request.status == 200 and request.header("If-None-Match") is None
        assert (settings.cache / "oews" / name).read_bytes() == blob
    national = read(
        settings.warehouse,
        "SELECT employment_count FROM stg_oews__estimates WHERE area_code = '0000000' "
        "AND industry_code = '000000' AND occupation_code = '000000'",
    )
    assert national["employment_count"].to_list() == [NATIONAL_EMPLOYMENT]

    # Every table as before (no `<table>__new` left either), but the provenance of the two
    # files downloaded again; no temporary file or write-ahead log left behind.
    assert fault.changed_tables() == {"raw_oews__files", "stg_oews__files"}
    after = retrieval_times(settings)
    assert {n for n in after if after[n] != before[n]} == set(good)
    assert leftovers(settings.output, settings.cache) == []
    assert not Path(f"{settings.warehouse}.wal").exists()
    # Every report file as before, but those two retrieval times in the pages' provenance.
    reports = file_digests(settings.output)
    assert reports.keys() == fault.baseline.reports.keys()
    for page in (p for p in reports if reports[p] != fault.baseline.reports[p]):
        assert page.endswith(".html"), page
        text = (settings.output / page).read_text()
        for name in good:  # as the page shows them
            text = text.replace(fmt_when(after[name]), fmt_when(before[name]))
        assert text == (fault.baseline.root / "reports" / page).read_text(), page
