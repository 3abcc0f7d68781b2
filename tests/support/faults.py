"""The fault harness: one good warehouse and report folder, built once per test session in live
mode from small BLS-format files on a loopback server; each fault case works on a copy of it.

A case copies the baseline (warehouse file, reports, download cache) into its own folder, makes
one thing go wrong (a server answer, a file, a setting), runs the real refresh and checks the
three promises of issue 8: the run fails (or recovers), the message names the source, what was
wrong and what to do, and every table and every report file is exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import ExecuteInProcessResult

from pipelines.settings import Settings
from tests.support.blsformat import export_embedded_release, open_embedded_release
from tests.support.loopback import LoopbackServer
from tests.support.pipeline import failure_text, run_refresh
from tests.test_oews_live import CELLS, ONET_DIR, live_settings, serve

# Short waits so failing downloads cost a second, not minutes; one retry still exercises the
# retry path.
FAST_HTTP: dict[str, object] = {
    "http_timeout_s": 1.0,
    "http_max_retries": 1,
    "http_backoff_s": 0.01,
    "http_min_interval_s": 0.0,
    "lock_wait_s": 0.3,
}
REPORT_EPOCH = "1767225600"  # the reports' generated date, pinned (2026-01-01): equal bytes
RELEASE = "2025A01"
# National, cross-industry, all occupations (the data file's first cell) and its employment.
NATIONAL_KEY = "OEUN0000000000000000000"
NATIONAL_EMPLOYMENT = 155_495_730
# What a run leaves behind if it writes carelessly: half-written tables and files.
TEMP_SUFFIXES = (".tmp", ".part")
# Columns left out when tables are compared: those about the latest check rather than the data
# (when the OEWS files were checked, whether the server answered 304, when the release was
# ingested: a refresh finding the files unchanged rightly updates them), and where the case's
# copy of the download cache is.
IGNORED_COLUMNS = {"checked_at", "is_from_cache", "ingested_at", "local_path"}


def run_job(
    settings: Settings,
    job_name: str = "refresh_warehouse",
    *,
    release: str = RELEASE,
    only_clusters: list[str] | None = None,
) -> ExecuteInProcessResult:
    """`tests.support.pipeline.run_refresh` for the baseline's release, without Dagster's debug
    console log (a sixth of a short run's time); failures are read from the run's events."""
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    return run_refresh(
        settings, job_name, release=release, only_clusters=only_clusters, run_config=quiet
    )


def table_fingerprints(path: Path) -> dict[str, tuple]:
    """Per table: its columns, row count and the sum of its row hashes, computed in DuckDB in
    one query. Like `tests.support.pipeline.table_digests` (order-independent, every value
    counts, but IGNORED_COLUMNS) and ten times faster, which matters when every fault case
    checks every table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema = 'main' "
            "AND NOT starts_with(table_name, '_') GROUP BY 1 ORDER BY 1"
        ).fetchall()
        hashed = [
            f'SELECT {i} AS t, count(*), sum(hash({", ".join(kept)})::HUGEINT) FROM "{name}"'
            for i, (name, columns) in enumerate(tables)
            if (kept := [f'"{c}"' for c in columns if c not in IGNORED_COLUMNS])
        ]
        rows = {r[0]: r[1:] for r in con.execute(" UNION ALL ".join(hashed)).fetchall()}
        return {name: (tuple(columns), rows[i]) for i, (name, columns) in enumerate(tables)}
    finally:
        con.close()


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(*folders: Path) -> list[str]:
    """Temporary files a failed or killed run must not leave behind."""
    return [
        str(p) for folder in folders for p in folder.rglob("*") if p.name.endswith(TEMP_SUFFIXES)
    ]


def assert_explained(message: str, source: str, *fragments: str) -> None:
    """The message names the source (`[source ...]`), says what was wrong (the fragments) and
    what to do."""
    assert f"[{source}" in message, message
    assert "What to do" in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


@dataclass
class Baseline:
    """A good warehouse + reports + cache in `root`, and the server the live sources come from."""

    root: Path
    server: LoopbackServer
    bls_files: Path
    onet_zip: bytes
    tables: dict[str, tuple] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)

    def serve_good(self) -> None:
        """Every route answers with the good file again (undoing any injected fault)."""
        serve(self.server, self.bls_files, self.onet_zip)

    def settings(self, folder: Path, **overrides: object) -> Settings:
        """Live settings for `folder` with every publisher URL on the loopback server."""
        contact = {"contact": overrides.pop("contact")} if "contact" in overrides else {}
        settings = live_settings(folder, self.server, **{**FAST_HTTP, **overrides})
        return settings.model_copy(update=contact)

    def copy_to(self, folder: Path) -> Case:
        """A copy of the warehouse, reports and download cache in `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.root / "warehouse.duckdb", folder / "warehouse.duckdb")
        # hard links: every report write replaces the file (new inode), never edits it in place
        shutil.copytree(self.root / "reports", folder / "reports", copy_function=os.link)
        shutil.copytree(self.root / "cache", folder / "cache")
        return Case(self, folder)


@dataclass
class Case:
    """One fault case: a copy of the baseline in `folder`."""

    baseline: Baseline
    folder: Path

    @property
    def tables(self) -> dict[str, tuple]:
        """The tables' fingerprints before the run (the baseline's)."""
        return self.baseline.tables

    @property
    def server(self) -> LoopbackServer:
        return self.baseline.server

    @property
    def bls_files(self) -> Path:
        return self.baseline.bls_files

    def settings(self, **overrides: object) -> Settings:
        return self.baseline.settings(self.folder, **overrides)

    def run(
        self, job: str = "refresh_warehouse", *, release: str = RELEASE, **overrides: object
    ) -> ExecuteInProcessResult:
        """The refresh (or another job) of `release` on this case's copy, with these settings
        changed."""
        return run_job(self.settings(**overrides), job, release=release)

    def changed_tables(self) -> set[str]:
        """Tables whose content differs from before the run (added or dropped ones too)."""
        after = table_fingerprints(self.folder / "warehouse.duckdb")
        return {t for t in self.tables.keys() | after.keys() if self.tables.get(t) != after.get(t)}

    def assert_intact(self, *, may_change: frozenset[str] = frozenset()) -> None:
        """Every table (but `may_change`) and every report file is as it was; nothing
        half-written is left in the reports or the cache."""
        changed = self.changed_tables()
        assert changed <= may_change, f"tables changed: {sorted(changed - may_change)}"
        assert file_digests(self.folder / "reports") == self.baseline.reports
        assert leftovers(self.folder / "reports", self.folder / "cache") == []


def export_small_release(folder: Path) -> Path:
    """BLS-format oe.* files with a few thousand cells of the embedded release."""
    sqlite = open_embedded_release(folder / "sqlite")
    export_embedded_release(sqlite, folder / "bls", cell_filter_sql=CELLS)
    return folder / "bls"


def onet_zip(folder: Path) -> bytes:
    """An O*NET text-database zip in the publisher's layout."""
    path = folder / "db_29_1_text.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("Job Zones.txt", "Job Zone Reference.txt"):
            archive.write(ONET_DIR / name, f"db_29_1_text/{name}")
    return path.read_bytes()


@contextmanager
def report_epoch(epoch: str = REPORT_EPOCH) -> Iterator[None]:
    """Pin the reports' generated date (SOURCE_DATE_EPOCH) for the duration."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


@contextmanager
def baseline_in(root: Path) -> Iterator[Baseline]:
    """Start the loopback server, build the good baseline in `root`, stop the server after."""
    with LoopbackServer() as server:
        baseline = Baseline(root, server, export_small_release(root / "src"), onet_zip(root))
        baseline.serve_good()
        settings = baseline.settings(root)
        with report_epoch():
            result = run_job(settings)
        assert result.success, failure_text(result)
        baseline.tables = table_fingerprints(settings.warehouse)
        baseline.reports = file_digests(settings.output)
        assert len(baseline.reports) > 14 * 9  # 14 pages with 8 downloads each, index, static
        yield baseline
