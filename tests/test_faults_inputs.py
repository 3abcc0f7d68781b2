"""Broken workbooks, reviewer decisions, living-wage CSVs, policy and settings at pipeline
level: the refresh fails naming the file, the problem and the remedy; nothing is lost.

The parsers' own tests (test_ep, test_crosswalk, test_oews_history, test_qualify,
test_clusters, test_settings) cover each message in detail. Here each broken input goes through
the real jobs on a copy of a good warehouse and its reports: the refresh for the publishers'
workbooks, and for the user's own files the stage job the README says to run after editing them
(the refresh runs the same steps). Inputs read by independent steps fail independently, so one
run breaks two of them and checks both messages.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from pipelines import cli
from tests.support import broken_files as broken
from tests.support.faults import Case, assert_explained, run_job
from tests.support.pipeline import failure_text, read

HISTORY = "oews history (national_M2024_dl.xlsx)"
EP = "ep (occupation.xlsx)"
# kind -> {source: fragments} for BLS's national workbook and the EP workbook
WORKBOOK_FAULTS: dict[str, dict[str, list[str]]] = {
    "missing-sheet": {
        HISTORY: ["cannot read sheet 'national_M2024_dl'", "no matching sheet found"],
        EP: ["no sheet 'Table 1.2'", "'Table 1.7'"],
    },
    "moved-header": {
        HISTORY: ["unexpected columns", "missing ['AREA'"],
        EP: ["no header row in its first 20 rows"],
    },
    "renamed-column": {
        HISTORY: ["missing ['TOT_EMP']", "unexpected ['EMPLOYMENT']"],
        EP: ["'Annual job openings, 2024–34'", "renamed or removed"],
    },
    "corrupt-zip": {
        HISTORY: ["cannot read sheet 'national_M2024_dl'", "invalid Zip archive"],
        EP: ["corrupt or truncated zip"],
    },
    "password": {
        "oews": ["national_M2024_dl.xlsx", "password-protected", "remove any password"],
        "ep": ["occupation.xlsx", "password-protected", "remove any password"],
    },
}


@pytest.mark.parametrize("kind", broken.WORKBOOK_KINDS)
def test_broken_workbooks_fail_clearly_and_lose_nothing(fault: Case, kind: str) -> None:
    """BLS's national workbook (history backfill) and the EP workbook, both broken alike."""
    inputs = fault.folder / "inputs"
    inputs.mkdir()
    result = fault.run(
        release="2024A01",  # the backfill's partition: May 2024 from the (broken) workbook
        oews_xlsx_local_path=broken.oews_workbook(inputs, kind),
        ep_local_path=broken.ep_workbook(inputs, kind),
    )
    assert not result.success
    message = failure_text(result)
    for source, fragments in WORKBOOK_FAULTS[kind].items():
        assert_explained(message, source, *fragments)
    fault.assert_intact()


CROSSWALK = "Advance CTE Framework Crosswalk"
SKILLED = "47-2111,Electricians,Construction,Skilled Trades"
SIGNED = "A. Reviewer,2026-01-05,why"
# The user's cluster inputs, read by the assign_clusters job (what a reviewer runs after editing
# them; the refresh runs the same steps): (crosswalk fault, decisions rows, {source: fragments})
CLUSTER_INPUT_FAULTS = [
    (
        "missing-sheet",
        f"99-9999,Nobody,Construction,Skilled Trades,add,,,{SIGNED}\n",
        {
            CROSSWALK: ["has no sheet 'SOC - CC - Sub-Clusters'", "'SOC - CC Sub Clusters'"],
            "reviewer decisions": ["line 2: SOC code '99-9999' is not an OEWS detailed"],
        },
    ),
    (
        "moved-header",
        f"47-2111,Electricians,Construction,Skilled Tradez,remove,,,{SIGNED}\n",
        {
            CROSSWALK: ["no sheet has the expected header row", "first 100 rows"],
            "reviewer decisions": ["line 2: cluster/sub-cluster 'Construction' / 'Skilled Tradez'"],
        },
    ),
    (
        "renamed-column",
        f"{SKILLED},remove,,,{SIGNED}\n{SKILLED},add,,,B. Other,2026-01-06,no\n",
        {
            CROSSWALK: ["has no column 'Sub-Cluster'", "'Subcluster'"],
            "reviewer decisions": ["line 3: it conflicts with the decision on line 2"],
        },
    ),
    (
        "corrupt-zip",
        f"{SKILLED},delete,,,{SIGNED}\n",
        {
            CROSSWALK: ["corrupt or truncated zip", "crosswalk.xlsx"],
            "reviewer decisions": ["line 2: decision 'delete' is not one of add, remove, move"],
        },
    ),
    (  # no decisions here (the header only): the encrypted crosswalk alone stops the run
        "password",
        "",
        {"crosswalk": ["crosswalk.xlsx", "password-protected", "remove any password"]},
    ),
]


@pytest.mark.parametrize(
    ("kind", "decisions", "expected"),
    CLUSTER_INPUT_FAULTS,
    ids=[f"crosswalk-{f[0]}" for f in CLUSTER_INPUT_FAULTS],
)
def test_broken_cluster_inputs_fail_clearly_and_lose_nothing(
    fault: Case, kind: str, decisions: str, expected: dict[str, list[str]]
) -> None:
    """The crosswalk workbook and the reviewer decisions, each broken in one way."""
    inputs = fault.folder / "inputs"
    inputs.mkdir()
    result = fault.run(
        "assign_clusters",
        crosswalk_local_path=broken.crosswalk_workbook(inputs, kind),
        review_decisions_path=broken.review_decisions(inputs, decisions),
    )
    assert not result.success
    message = failure_text(result)
    for source, fragments in expected.items():
        assert_explained(message, source, *fragments)
    fault.assert_intact()


# The policy and its state living-wage CSV, read by the qualify_occupations job (what a user
# runs after editing them): (living-wage CSV rows or None, threshold, source, fragments)
POLICY_FAULTS = [
    ("CA,abc,MIT,2026\n", 25.0, "living wage CSV", ["line 2: hourly 'abc' is not a number"]),
    (
        "CA,30.5,MIT,2026\nAtlantis,20,MIT,2026\n",
        25.0,
        "living wage CSV",
        ["line 3: unknown state 'Atlantis'", "postal code"],
    ),
    (
        "CA,30.5,MIT,2026\nCalifornia,31,MIT,2026\n",
        25.0,
        "living wage CSV",
        ["line 3: 'California' was already given on line 2", "one row per state"],
    ),
    (None, 0.0, "policy", ["is invalid: living_wage.hourly_usd", "greater than 0"]),
]


@pytest.mark.parametrize(
    ("living_wages", "hourly", "source", "fragments"),
    POLICY_FAULTS,
    ids=["non-numeric-wage", "unknown-state", "duplicate-state", "threshold-zero"],
)
def test_broken_policy_inputs_fail_clearly_and_lose_nothing(
    fault: Case, living_wages: str | None, hourly: float, source: str, fragments: list[str]
) -> None:
    """A state living-wage CSV with one bad line, or a policy threshold of 0."""
    policy = broken.policy(fault.folder, living_wage_csv=living_wages, hourly_usd=hourly)
    result = fault.run("qualify_occupations", policy_path=policy)
    assert not result.success
    assert_explained(failure_text(result), source, *fragments)
    # nothing of the refused policy's screen was written, not even its skill tiers
    assert not [e for e in result.get_asset_materialization_events() if e.asset_key.path[0]
                .startswith(("int_qualify", "out_qualify"))]  # fmt: skip
    fault.assert_intact()


def test_unknown_setting_stops_ccp_run_before_it_starts(
    fault: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt variable is an error with a suggestion, and the warehouse is not opened
    (`ccp run` itself, in this process; tests/test_cli.py runs the installed script)."""
    for key in [k for k in os.environ if k.startswith("CCP_")]:
        monkeypatch.delenv(key)
    settings = fault.settings()
    monkeypatch.setenv("CCP_WAREHOUSE_PATH", str(settings.warehouse))
    monkeypatch.setenv("CCP_OUTPUT_DIR", str(settings.output))
    monkeypatch.setenv("CCP_SOURCE_MOD", "live")
    assert cli.main(["run"]) == 2
    assert (
        "Unknown setting CCP_SOURCE_MOD. Did you mean CCP_SOURCE_MODE?" in capsys.readouterr().err
    )
    fault.assert_intact()


def onet_zip_without_job_zones(folder: Path) -> bytes:
    """A whole, readable zip that is not the O*NET text database."""
    path = folder / "not-onet.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("db_29_1_text/Occupation Data.txt", "O*NET-SOC Code\tTitle\n")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("route", "cached_as", "source", "fragment"),
    [
        ("/emp/occupation.xlsx", "ep/occupation.xlsx", EP, "no header row"),
        ("/onet/db_29_1_text.zip", "onet/db_29_1_text.zip", "onet", "has no 'Job Zones.txt'"),
    ],
)
def test_a_refused_download_is_set_aside_and_the_copy_it_replaced_kept(
    fault: Case, route: str, cached_as: str, source: str, fragment: str
) -> None:
    """A publisher serves a changed file that downloads fine but is not the data (EP: a moved
    header; O*NET: a zip without the Job Zones): the refusal moves it aside and puts the cached
    file back, so the next run is not stuck revalidating the refused bytes (a 304 would hand
    them to the reader again)."""
    if source == EP:
        bad = broken.ep_workbook(fault.folder, "moved-header").read_bytes()
    else:
        bad = onet_zip_without_job_zones(fault.folder)
    fault.server.add(route, bad, etag='"changed"')
    result = fault.run()
    assert not result.success
    message = failure_text(result)
    assert_explained(message, source, fragment, "the copy cached before it is back")
    fault.assert_intact()
    cached = fault.folder / "cache" / cached_as
    assert cached.with_name(f"{cached.name}.refused").read_bytes() == bad
    assert cached.read_bytes() == (fault.baseline.root / "cache" / cached_as).read_bytes()


def test_an_empty_url_leaves_a_source_out_of_a_live_run(fault: Case) -> None:
    """Live mode reaches every publisher; a source the user cannot reach (here Advance CTE's
    crosswalk) is left out by emptying its URL, and the reports say it was not used."""
    fault.server.add("/crosswalk.xlsx", b"", status=500)  # would fail the run if asked for
    settings = fault.settings().model_copy(update={"crosswalk_url": ""})
    result = run_job(settings)
    assert result.success, failure_text(result)
    [note] = read(
        settings.warehouse,
        "SELECT note FROM raw_sources__files WHERE source = 'crosswalk' AND NOT is_used",
    )["note"]
    assert note.startswith("left out of this run (CCP_CROSSWALK_URL is empty); to use it")
    page = (fault.folder / "reports" / "2025A01" / "construction.html").read_text()
    assert f"not used: {note}</td>" in page  # in the provenance table


def test_an_ep_file_staging_refuses_is_not_cited_as_the_one_used(fault: Case) -> None:
    """A new EP workbook that parses but breaks its table's contract (150% self-employed):
    the run loading it fails and says why, staging keeps the rows of the file before, and the
    release tables rebuilt afterwards record that file, not the refused one, as the one they
    were built with (what each report's Sources table cites)."""
    from tests.test_ep import ROWS, write_ep
    from tests.test_qualify import EP_XLSX

    assert fault.run(ep_local_path=EP_XLSX).success
    rows = [list(row) for row in ROWS]
    rows[2][9] = 150  # Software developers' percent self-employed
    odd = write_ep(fault.folder / "occupation_odd.xlsx", rows=rows)
    result = fault.run(ep_local_path=odd)
    assert not result.success
    assert_explained(failure_text(result), "stg_ep__occupations", "self_employed_pct")
    warehouse = fault.folder / "warehouse.duckdb"
    loaded = read(warehouse, "SELECT file_name FROM raw_sources__files WHERE source = 'ep'")
    assert loaded["file_name"].to_list() == ["occupation_odd.xlsx"]  # what the run read
    held = read(warehouse, "SELECT file_name FROM stg_sources__files WHERE source = 'ep'")
    assert held["file_name"].to_list() == [EP_XLSX.name]  # what the warehouse holds
    assert fault.run("qualify_occupations").success
    cited = read(
        warehouse,
        "SELECT DISTINCT file_name FROM raw_sources__release_files "
        "WHERE release_code = '2025A01' AND source = 'ep'",
    )
    assert cited["file_name"].to_list() == [EP_XLSX.name]
