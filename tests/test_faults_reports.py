"""Reports on awkward data, in the real HTML: a very long name with Unicode and markup, and a
cluster where nothing qualifies (the report must say so, not fail).

Markup in names is covered page-deep (and in Chromium) by tests/test_reports.py, and the
charts' wording for an empty cluster by tests/test_report_charts.py; here the data flows through
the real stages: the qualify, cluster and report jobs a user runs after changing the policy.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse_summary import summary
from tests.support import broken_files
from tests.support.faults import RELEASE, Case, assert_explained, file_digests, run_job
from tests.support.pipeline import failure_text, read

EMPTY = "hospitality-events-tourism"  # its best-paid middle/high-skill occupation: $44.82/h
THRESHOLD = 50.0  # hourly; every other cluster keeps qualifying occupations
CHEFS = "35-1011"  # Chefs and Head Cooks, a Hospitality occupation
LONG_NAME = (
    "Chefs and Head Cooks — Küche & Pâtisserie, «cuisine régionale», 料理長, Шеф-повар, "
    "شيف <i>de partie</i> 👩‍🍳 " + "extraordinarily-long-hyphenated-designation-" * 6
).strip()


def rename(settings_warehouse: Path, soc: str, name: str) -> None:
    """The name as a publisher might write it, in the occupation list every stage reads."""
    con = duckdb.connect(str(settings_warehouse))
    try:
        con.execute(
            "UPDATE stg_oews__occupations SET occupation_name = ? WHERE soc_code = ?", [name, soc]
        )
    finally:
        con.close()


def test_long_unicode_names_and_a_cluster_where_nothing_qualifies(fault: Case) -> None:
    settings = fault.settings(policy_path=broken_files.policy(fault.folder, hourly_usd=THRESHOLD))
    rename(settings.warehouse, CHEFS, LONG_NAME)
    for job in ("qualify_occupations", "assign_clusters"):
        result = run_job(settings, job)
        assert result.success, f"{job}: {failure_text(result)}"
    summary = read(
        settings.warehouse,
        "SELECT cluster_code, qualifying_occupation_count AS n FROM out_profiles__cluster_summary",
    )
    counts = dict(summary.iter_rows())
    assert counts[EMPTY] == 0 and min(n for c, n in counts.items() if c != EMPTY) > 0
    result = run_job(settings, "render_reports", only_clusters=[EMPTY])
    assert result.success, failure_text(result)

    folder = settings.output / RELEASE
    page = (folder / f"{EMPTY}.html").read_text(encoding="utf-8")
    assert "<strong>No occupation in this cluster qualifies</strong>" in page
    assert f"(living wage ${THRESHOLD:.2f}/h)" in page and "each of the cluster's\n" in page
    assert "No qualifying occupation has a published annual median wage." in page
    assert "No sub-cluster has qualifying employment." in page
    assert "$—" not in page  # no currency sign on a missing figure
    assert "None: no qualifying occupation has projected openings in BLS EP 2024–2034" in page
    assert "were not loaded" not in page  # EP is loaded; there is simply nothing to count
    # The name, escaped once, whole; the markup inside it is text.
    assert html.escape(LONG_NAME, quote=False) in page and "<i>de partie</i>" not in page
    assert LONG_NAME not in page
    # The downloads carry it unchanged (UTF-8), and the review sheet still lists the cluster.
    downloads = folder / "downloads" / EMPTY
    rows = list(csv.DictReader(io.StringIO((downloads / f"{EMPTY}-occupations.csv").read_text())))
    assert LONG_NAME in {r["occupation_name"] for r in rows}
    assert all(r["status"] != "qualifies" for r in rows)
    review = (downloads / f"{EMPTY}-review-sheet.csv").read_text(encoding="utf-8")
    assert LONG_NAME in review
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert f'href="{EMPTY}.html"' in index


def qualifying(warehouse: Path) -> dict[str, int]:
    """Qualifying occupations per cluster, counted from the screen itself."""
    return dict(
        read(
            warehouse,
            "SELECT o.cluster_code, count(DISTINCT o.occupation_code) FILTER "
            "(WHERE q.status = 'qualifies') FROM out_clusters__occupation_cluster o "
            "JOIN out_qualify__occupation_qualification q ON q.release_code = o.release_code "
            "AND q.occupation_code = o.occupation_code AND q.area_type = 'national' GROUP BY 1",
        ).iter_rows()
    )


def test_reports_never_state_a_policy_their_figures_were_not_screened_with(fault: Case) -> None:
    """Editing the policy, then rendering, must not mix the new policy's words with the old
    screen's figures: the render refuses, changing nothing; `qualify_occupations` re-screens
    and rebuilds everything after it, every report and the index included."""
    raised = fault.settings(policy_path=broken_files.policy(fault.folder, hourly_usd=40.0))
    result = run_job(raised, "render_reports", only_clusters=["construction"])
    assert not result.success
    assert_explained(
        failure_text(result),
        "reports",
        "release 2025A01 cannot be rendered as it is",
        "screened under another qualification policy",
        "ccp run --job qualify_occupations --release 2025A01",
    )
    fault.assert_intact()
    with pytest.raises(ValueError, match="renders all of them: run it without --cluster"):
        run_job(raised, "qualify_occupations", only_clusters=["construction"])

    result = run_job(raised, "qualify_occupations")
    assert result.success, failure_text(result)
    counts = qualifying(raised.warehouse)
    folder = raised.output / RELEASE
    before, after = fault.baseline.reports, file_digests(raised.output)
    for cluster, count in counts.items():
        name = f"{RELEASE}/{cluster}.html"
        assert after[name] != before[name], name
        page = (raised.output / name).read_text(encoding="utf-8")
        assert "living wage of $40.00/h" in page, name
        lede = re.search(r'<dt>Qualifying occupations</dt>\s*<dd><span class="big">(\d+)', page)
        assert lede and int(lede.group(1)) == count, name
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "at least $40.00/h" in index and "at least $25.00/h" not in index

    # Tables a report reads left over from an earlier screen (as after materializing only the
    # screen in the UI) are refused too, with no report changed.
    for table in ("out_profiles__cluster_occupations", "out_clusters__occupation_cluster"):
        copy = fault.folder / f"{table}.duckdb"
        shutil.copyfile(raised.warehouse, copy)
        con = duckdb.connect(str(copy))
        try:
            con.execute(
                f"UPDATE {table} SET status = 'excluded' WHERE status = 'qualifies' AND "
                f"occupation_code = (SELECT min(occupation_code) FROM {table} "
                "WHERE status = 'qualifies')"
            )
        finally:
            con.close()
        stale = raised.model_copy(update={"warehouse_path": copy})
        rendered = file_digests(raised.output)
        result = run_job(stale, "render_reports", only_clusters=["construction"])
        assert not result.success
        message = failure_text(result)
        assert "built from an earlier screen" in message and f"{table} (" in message, message
        assert file_digests(raised.output) == rendered
        # and `ccp info` says so beside the qualification it prints
        info = summary(stale)
        assert f"Built from an earlier screen of {RELEASE}" in info and f"{table} (" in info
        assert f"ccp run --job qualify_occupations --release {RELEASE}" in info
    assert "earlier screen" not in summary(raised)


def test_info_names_a_release_a_stopped_run_loaded_only_in_part(tmp_path: Path) -> None:
    """A run that stopped after the estimates but before the release row (a later source
    failed): `ccp info` says the release is there in part, and how to load it whole."""
    from pipelines.settings import Settings
    from tests.support.pipeline import shared_embedded_build

    built = shared_embedded_build()
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    settings: Settings = built.model_copy(update={"warehouse_path": copy})
    assert "Partly loaded" not in summary(settings)
    # the screen it prints says which policy it ran under
    assert "  screened on the median wage against $25.00/h (United States" in summary(settings)
    con = duckdb.connect(str(copy))
    try:
        con.execute("DELETE FROM stg_oews__release WHERE release_code = ?", [RELEASE])
    finally:
        con.close()
    info = summary(settings)
    assert f"Partly loaded (a run stopped before its release row): {RELEASE}." in info
    assert f"`ccp run --release {RELEASE}` loads it whole" in info


def test_a_change_table_of_an_earlier_version_is_rebuilt_and_rendered(tmp_path: Path) -> None:
    """A warehouse upgraded from a version whose change table had no skill-source flag, with
    another release's comparison in it: that release's rows are kept (the flag NULL), this
    release's table is rebuilt, and its reports render, before and after the rebuild."""
    from pipelines.metadata import build_table
    from pipelines.settings import Settings
    from tests.support.pipeline import shared_embedded_build

    built = shared_embedded_build()
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    settings: Settings = built.model_copy(
        update={"warehouse_path": copy, "output_dir": tmp_path / "reports"}
    )
    changes = "out_profiles__cluster_changes"
    con = duckdb.connect(str(copy))
    try:  # the earlier layout: this release's comparison with May 2024, and May 2024's own
        con.execute(f"ALTER TABLE {changes} DROP COLUMN is_skill_tier_source_changed")
        for release, previous in ((RELEASE, "2024A01"), ("2024A01", "2023A01")):
            con.execute(
                f"INSERT INTO {changes} BY NAME SELECT ? AS release_code, "
                "? AS previous_release_code, cluster_code, occupation_code, soc_code, "
                "occupation_name, employment_count, employment_count AS previous_employment_count, "
                "0::BIGINT AS employment_change_count, status, status AS previous_status, "
                "'still qualifies' AS change_kind, false AS is_policy_changed "
                "FROM out_profiles__cluster_occupations WHERE status = 'qualifies' "
                "AND release_code = ?",
                [release, previous, RELEASE],
            )
        con.execute(  # so that the reports have an earlier release to compare with
            "INSERT INTO stg_oews__release SELECT * REPLACE ('2024A01' AS release_code, "
            "'May 2024' AS release_name) FROM stg_oews__release WHERE release_code = ?",
            [RELEASE],
        )
    finally:
        con.close()
    rendered = run_job(settings, "render_reports")  # the column missing altogether
    assert rendered.success, failure_text(rendered)
    page = (settings.output / RELEASE / "construction.html").read_text()
    assert "What changed since May 2024" in page
    con = duckdb.connect(str(copy))
    try:
        build_table(con, changes, [RELEASE, "2024A01"])
        kept = con.execute(
            f"SELECT count(*), count(is_skill_tier_source_changed) FROM {changes} "
            "WHERE release_code = '2024A01'"
        ).fetchone()
    finally:
        con.close()
    assert kept is not None and kept[0] > 0 and kept[1] == 0  # kept, the flag unknown
    assert run_job(settings, "render_reports").success
