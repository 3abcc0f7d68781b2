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
from pathlib import Path

import duckdb

from tests.support import broken_files
from tests.support.faults import RELEASE, Case, run_job
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
