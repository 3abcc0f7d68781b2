"""Cluster reports: produced by the main job, equal to the warehouse, safe, deterministic,
re-rendered one cluster at a time, and working offline in a real headless Chromium."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.framework.definition import load_framework
from pipelines.policy.qualification import load_policy
from pipelines.policy.reviews import COLUMNS as REVIEW_COLUMNS
from pipelines.reporting.downloads import DOWNLOAD_TABLES, for_a_workbook
from pipelines.reporting.render import write_bytes
from pipelines.settings import Settings
from schemas.dictionary import column_description
from tests.support.pipeline import (
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    shared_embedded_build,
    table_digests,
)
from tests.support.ui_screenshot import chromium

RELEASE = "2025A01"
CLUSTERS = [c.slug for c in load_framework().clusters]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports"
MARKUP = '<script>window.__injected = 1</script><b id="injected">Bold & "quoted"</b>'


@pytest.fixture(scope="module")
def built() -> Settings:
    """The shared offline build: tests that change anything work on `copy_of` it."""
    return shared_embedded_build()


def copy_of(settings: Settings, tmp: Path, **overrides: object) -> Settings:
    """An independent copy of a built warehouse and its reports, to change without side effects."""
    clone = isolated_settings(tmp, **overrides)
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.warehouse, clone.warehouse)
    shutil.copytree(settings.output, clone.output)
    return clone


def render_one(settings: Settings, cluster: str):
    result = run_refresh(settings, "render_reports", release=RELEASE, only_clusters=[cluster])
    assert result.success, failure_text(result)
    return result


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def occupation_row(page: str, soc: str) -> str:
    match = re.search(rf"<tr data-status=\"\w+\">\s*<td data-search>{soc}</td>.*?</tr>", page, re.S)
    assert match, f"no occupations-table row for {soc}"
    return match.group(0)


def test_main_job_writes_fourteen_reports_index_and_downloads(built: Settings) -> None:
    folder = built.output / RELEASE
    assert sorted(p.stem for p in folder.glob("*.html")) == sorted([*CLUSTERS, "index"])
    assert (built.output / "index.html").exists()
    assert [p.name for p in built.output.rglob("plotly.min.js")] == ["plotly.min.js"]
    for slug in CLUSTERS:
        page = (folder / f"{slug}.html").read_text()
        # plotly.js referenced once, relatively; never inlined, never from a CDN
        assert '<script src="plotly.min.js"></script>' in page
        assert "cdn." not in page and "https://cdn" not in page
        assert len(page.encode()) <= 1_500_000
        files = {p.name for p in (folder / "downloads" / slug).iterdir()}
        assert files == {
            f"{slug}-summary.csv",
            f"{slug}-occupations.csv",
            f"{slug}-industries.csv",
            f"{slug}-states.csv",
            f"{slug}-changes.csv",
            f"{slug}-industry-changes.csv",
            f"{slug}.xlsx",
            f"{slug}-review-sheet.csv",
            f"{slug}-review-sheet.xlsx",
        }
        for name in files:  # every download is linked from the page
            assert f'href="downloads/{slug}/{name}"' in page
        # each link says what its file holds; with one release, the comparisons have no rows
        # and say why (the file is there all the same, for scripts that read every release)
        links = {
            m[0]: " ".join(m[1].split())
            for m in re.findall(r'download>([^<]+)</a> <span class="meta">[^<]*</span>:(.*?)</li>',
                                page, flags=re.S)
        }  # fmt: skip
        assert set(links) == files
        rows = pl.read_csv(folder / "downloads" / slug / f"{slug}-changes.csv").height
        assert rows == 0 and links[f"{slug}-changes.csv"].endswith(
            "no rows (no earlier release was compared with this one)"
        )
        assert "no rows" not in links[f"{slug}-occupations.csv"]
        # the industries file: the cluster's rows, then each sub-cluster's, as the mart has them
        industries = pl.read_csv(
            folder / "downloads" / slug / f"{slug}-industries.csv",
            schema_overrides={"industry_code": pl.String, "naics_code": pl.String},
        )
        mart = read(
            built.warehouse,
            "SELECT sub_cluster_code, industry_code, employment_count FROM "
            "out_clusters__cluster_industry WHERE release_code = ? AND cluster_code = ?",
            [RELEASE, slug],
        )
        assert industries.height == mart.height
        own = industries["sub_cluster_code"].is_null()
        assert own.arg_min() == own.sum()  # the cluster's rows come first
        assert industries.filter(~own)["sub_cluster_code"].n_unique() == (
            mart["sub_cluster_code"].n_unique() - 1
        )
        assert (
            industries.select(mart.columns)
            .sort(mart.columns, nulls_last=True)
            .equals(mart.sort(mart.columns, nulls_last=True))
        )
    index = (folder / "index.html").read_text()
    framework = load_framework()
    headings = re.findall(r'<h2 id="g\d+">(.*?)</h2>', index)
    ordered = sorted(framework.groupings, key=lambda g: g.code)
    assert headings == [g.name.replace("&", "&amp;") for g in ordered]
    for grouping in framework.groupings:  # each grouping's section links its clusters
        section = index.split(f">{grouping.name.replace('&', '&amp;')}</h2>")[1].split(
            "</section>"
        )[0]
        members = [c.slug for c in framework.clusters if c.grouping == grouping.name]
        assert members and all(f'href="{slug}.html"' in section for slug in members)
    assert all(f'href="{slug}.html"' in index for slug in CLUSTERS)
    # offline, skill tiers come from the built-in rules: the index says so, like each report
    text = " ".join(html.unescape(index).split())
    assert (
        "Skill tier from the project's built-in SOC-group rules (each occupation's reason names "
        "its rule). BLS Employment Projections, the policy's first choice, was not available "
        "when this release was screened." in text
    )
    assert "Bachelor's degree" not in text  # the EP rule is not stated where EP was not used
    # where the data came from, in words (the package address is in each report's sources)
    assert (
        "Data: BLS Occupational Employment and Wage Statistics (OEWS), May 2025 (BLS's "
        "published release, from the copy installed" in text
    )
    assert "pypi.org" not in index
    # offline there is no crosswalk either: the clusters are the project's rules, and every
    # output says so
    for page in [index, *((folder / f"{slug}.html").read_text() for slug in CLUSTERS)]:
        text = " ".join(html.unescape(page).split())
        assert "Every skill tier comes from the project's built-in SOC-group rules" in text
        assert "Typical education / training" not in page  # no column of dashes without EP
        assert (
            "Provisional: occupations placed in clusters by the project's own rules, not by "
            "Advance CTE's official crosswalk; skill tiers from the project's built-in rules, "
            "not from BLS or O*NET data.</strong> Why, and what that means"
        ) in text
        crosswalk = "Advance CTE's official Framework Crosswalk was not available for this release"
        assert crosswalk in text
        assert "BLS Employment Projections program" not in text  # not used, not credited


def test_each_page_lists_the_policy_it_was_screened_with(built: Settings) -> None:
    """The qualification policy is a list of its three parts on the index and every report."""
    sources = read(
        built.warehouse,
        "SELECT DISTINCT skill_tier_source FROM int_qualify__skill_tiers WHERE release_code = ?",
        [RELEASE],
    )["skill_tier_source"].to_list()
    items = [html.escape(i, quote=False) for i in load_policy().summary_items(sources)]
    assert len(items) == 3 and items[1].startswith("Living wage: the OEWS median wage")
    for page in (built.output / RELEASE).glob("*.html"):
        listed = re.search(r'<ul class="policy-items">(.*?)</ul>', page.read_text(), re.S)
        assert listed, page.name
        found = [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)]
        assert found == [html.unescape(item) for item in items], page.name


@pytest.mark.parametrize(
    ("skill", "layers", "expected", "absent"),
    [
        (  # DISTINCT ... ORDER BY gives the sources alphabetically; the notice orders them
            ("ep", "fallback", "job_zone"),
            ("official", "rules"),
            "Occupations are assigned to clusters by: Advance CTE's official Framework Crosswalk; "
            "the project's rules (SOC groups and industry evidence). Provisional: some skill tiers "
            "from the project's built-in rules. Why, and what that means "
            "Some occupations are not covered by BLS Employment Projections "
            "(typical entry education and training) or O*NET Job Zones, so their skill tiers "
            "come from the project's built-in SOC-group rules",
            "Crosswalk was not available",
        ),
        (
            ("ep",),
            ("official", "reviewer", "rules"),
            "Occupations are assigned to clusters by: Advance CTE's official Framework Crosswalk; "
            "IAG reviewer decisions; the project's rules (SOC groups and industry evidence).",
            "Provisional",
        ),
        (
            ("ep",),
            ("reviewer", "rules"),
            "come from the project's own rules (SOC groups and industry evidence) and reviewer "
            "decisions, not from Advance CTE.",
            "Some occupations",
        ),
    ],
)
def test_the_sources_notice_says_what_was_used(
    skill: tuple[str, ...], layers: tuple[str, ...], expected: str, absent: str
) -> None:
    from pipelines.reporting.data import SourcesUsed
    from pipelines.reporting.render import environment

    macro = environment().get_template("sources_notice.html.j2").module.sources_notice
    page = str(macro(SourcesUsed(skill, layers), "Methodology"))
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert expected in text and absent not in text


def test_offline_pages_tell_readers_what_is_missing_without_setting_names(built: Settings) -> None:
    """Advisory-group members read these pages: what a run lacked (no earlier release, no EP) is
    said in words, and setting names stay in the provenance table, where researchers look."""
    page = (built.output / RELEASE / "construction.html").read_text()
    provenance = re.search(r'<table class="sources">.*?</table>', page, re.S)
    assert provenance and "CCP_EP_LOCAL_PATH" in provenance.group(0)
    reader = page.replace(provenance.group(0), "")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", reader)).split())
    assert (
        "This report covers May 2025 alone: no earlier OEWS release was loaded alongside it" in text
    )
    assert "BLS Employment Projections were not loaded for this report" in text
    assert not re.findall(r"CCP_[A-Z_]+", text)


def test_a_typical_wage_names_the_occupations_it_leaves_out(built: Settings) -> None:
    """The wage card names, from the mart, the qualifying occupations BLS publishes no hourly
    median for (not "such as teachers" on a page without teachers), as many as the summary."""
    summary = read(
        built.warehouse,
        "SELECT cluster_code, qualifying_without_hourly_median_occupation_count AS n "
        "FROM out_profiles__cluster_summary WHERE release_code = ?",
        [RELEASE],
    )
    assert summary["n"].sum() > 0
    for cluster, count in summary.rows():
        page = (built.output / RELEASE / f"{cluster}.html").read_text()
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
        gap = r"no hourly median for (\d+) qualifying occupations? \((.*?)\), paid"
        found = re.search(gap, text)
        assert bool(found) == bool(count), cluster
        if not count:
            continue
        assert int(found.group(1)) == count, cluster
        names = read(
            built.warehouse,
            "SELECT DISTINCT occupation_name FROM out_profiles__cluster_occupations "
            "WHERE release_code = ? AND cluster_code = ? AND status = 'qualifies' "
            "AND wage_hourly_median_usd IS NULL",
            [RELEASE, cluster],
        )["occupation_name"].to_list()
        listed = found.group(2).split("; ")
        assert set(listed[:3]) <= set(names) and len(names) == count, cluster
        assert "teachers and airline pilots" not in text


def test_exclusions_name_their_largest_occupations(built: Settings) -> None:
    """A reviewer sees which occupations the policy leaves out, and how many of those excluded
    for skill pay a living wage all the same (Public Service & Safety: patrol officers)."""
    low = read(
        built.warehouse,
        "SELECT occupation_name, employment_count, living_wage_margin_usd "
        "FROM out_profiles__cluster_occupations WHERE release_code = ? "
        "AND cluster_code = 'public-service-safety' AND qualification_reason LIKE "
        "'excluded: low skill%' ORDER BY employment_count DESC, occupation_name",
        [RELEASE],
    )
    paying = low.filter(pl.col("living_wage_margin_usd") >= 0).height
    assert "Police and Sheriff's Patrol Officers" in low["occupation_name"].head(3).to_list()
    page = (built.output / RELEASE / "public-service-safety.html").read_text()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert (
        f"low skill (each reason says by which source): {low.height} occupations, "
        f"{low['employment_count'].sum():,} jobs ({paying} of these occupations pay at least "
        f"the living wage); the largest: {'; '.join(low['occupation_name'].head(3))}"
    ) in text


def test_review_sheet_keeps_the_order_decisions_were_applied_in() -> None:
    """'add' to a sub-cluster and then 'remove' from the whole cluster leaves the occupation out;
    in the other order it stays in. The sheet lists one occupation's decisions as applied."""
    from types import SimpleNamespace

    from pipelines.reporting.downloads import review_sheet

    current = pl.DataFrame(
        {
            "soc_code": ["11-1011"],
            "occupation_name": ["Chief Executives"],
            "cluster_name": ["Construction"],
            "sub_cluster_name": ["Design & Planning"],
            "status": ["qualifies"],
            "employment_count": [10],
            "layer": ["rules"],
            "is_primary": [True],
            "evidence": ["rule SOC 11-1000: …"],
        }
    )
    decided = ["A", "2026-01-01", "r"]
    made = pl.DataFrame(
        [
            ["47-2111", "x", "Construction", "Skilled Trades", "add", "", "", *decided],
            ["47-2111", "x", "Construction", "", "remove", "", "", *decided],
        ],
        schema=REVIEW_COLUMNS,
        orient="row",
    )
    sheet = review_sheet(SimpleNamespace(assignments=current, sheet_decisions=made))
    assert sheet["decision"].to_list() == ["", "add", "remove"]
    assert sheet.columns[: len(REVIEW_COLUMNS)] == REVIEW_COLUMNS


def test_output_files_are_readable_by_others(built: Settings, tmp_path: Path) -> None:
    """Reports go to shared folders and web servers: every file gets the mode a new file gets
    under the umask (0644 under 022), not a temporary file's private 0600, which an unchanged
    file left by an earlier version is mended from; another mode is left as it is."""
    umask = os.umask(0o022)
    os.umask(umask)
    modes = {p: p.stat().st_mode & 0o777 for p in built.output.rglob("*") if p.is_file()}
    assert len(modes) >= 14 + 14 * 9 + 5
    assert set(modes.values()) == {0o666 & ~umask}

    page = tmp_path / "page.html"
    assert write_bytes(page, b"one") and page.stat().st_mode & 0o777 == 0o666 & ~umask
    page.chmod(0o600)  # as earlier versions left it: the same bytes are written again
    assert write_bytes(page, b"one") and page.stat().st_mode & 0o777 == 0o666 & ~umask
    page.chmod(0o640)  # a mode someone chose stays
    assert not write_bytes(page, b"one") and page.stat().st_mode & 0o777 == 0o640


def test_every_chart_is_a_valid_plotly_figure(built: Settings) -> None:
    """Charts are written as plain JSON (fast); plotly's own validator checks each one here, so a
    misspelt property or a wrong value type fails a test instead of being ignored by plotly.js."""
    import plotly.graph_objects as go

    figures = 0
    for page in sorted((built.output / RELEASE).glob("*.html")):
        for blob in re.findall(
            r'<script type="application/json" data-chart-for="[\w-]+">(.*?)</script>',
            page.read_text(encoding="utf-8"),
            re.S,
        ):
            spec = json.loads(blob)
            go.Figure(data=spec["data"], layout=spec["layout"])  # raises on anything invalid
            assert spec["data"] and all(trace.get("type") for trace in spec["data"])
            figures += 1
    assert figures >= 4 * len(CLUSTERS)  # sub-clusters, industries, wages, states (+ outlook)
    with pytest.raises(ValueError, match="colour"):  # the validator is strict: it can fail
        go.Figure(data=[{"type": "bar", "marker": {"colour": "#000"}}])


def test_report_values_equal_the_warehouse(built: Settings) -> None:
    page = (built.output / RELEASE / "digital-technology.html").read_text()
    row = read(
        built.warehouse,
        "SELECT employment_count, wage_annual_median_usd, wage_annual_p10_usd, "
        "wage_annual_p90_usd, status FROM out_profiles__cluster_occupations "
        "WHERE cluster_code = 'digital-technology' AND soc_code = '15-1252'",
    ).row(0, named=True)
    assert row["employment_count"] == 1_687_890  # Software Developers, May 2025
    html_row = occupation_row(page, "15-1252")
    assert ">1,687,890<" in html_row
    assert f">${row['wage_annual_median_usd']:,.0f}<" in html_row
    assert f">${row['wage_annual_p10_usd']:,.0f}<" in html_row
    assert f">${row['wage_annual_p90_usd']:,.0f}<" in html_row
    assert f"status-{row['status']}" in html_row

    summary = read(
        built.warehouse,
        "SELECT * FROM out_profiles__cluster_summary WHERE cluster_code = 'digital-technology'",
    ).row(0, named=True)
    headline = page[page.index('id="headline"') : page.index('id="sub-clusters"')]
    for key in (
        "qualifying_employment_count",
        "qualifying_exclusive_employment_count",
        "qualifying_shared_employment_count",
        "qualifying_primary_employment_count",
    ):
        assert f">{summary[key]:,}<" in headline, key
    assert f"${summary['qualifying_wage_annual_mean_usd']:,.0f}" in headline
    # Typical wage: hourly here, where hourly medians cover as many jobs as annual ones
    assert "<dt>Typical hourly wage</dt>" in headline
    typical = f"${summary['qualifying_wage_hourly_median_emp_weighted_avg_usd']:,.2f}"
    assert f'<span class="big">{typical}</span>' in headline
    assert (
        f"By the year: ${summary['qualifying_wage_annual_median_emp_weighted_avg_usd']:,.0f}"
        in (" ".join(headline.split()))
    )
    # the number of rows in the occupations table is the number of assigned occupations
    assert page.count('<tr data-status="') == summary["assigned_occupation_count"]


def test_typical_wage_leads_by_the_statistic_that_covers_the_jobs(built: Settings) -> None:
    """The typical wage leads by the hour, as the living wage is, unless hourly medians miss more
    than a tenth of the qualifying jobs and annual ones cover more: only Education in May 2025,
    whose teachers BLS publishes annual wages for only."""
    leads = {}
    for row in read(built.warehouse, "SELECT * FROM out_profiles__cluster_summary").iter_rows(
        named=True
    ):
        hourly = row["qualifying_wage_hourly_median_covered_employment_count"]
        annual = row["qualifying_wage_annual_median_covered_employment_count"]
        by_year = annual > hourly and hourly < 0.9 * row["qualifying_employment_count"]
        text = (built.output / RELEASE / f"{row['cluster_code']}.html").read_text()
        leads[row["cluster_code"]] = (
            "annual" if "<dt>Typical annual wage</dt>" in text else "hourly"
        )
        assert leads[row["cluster_code"]] == ("annual" if by_year else "hourly"), row
    assert [c for c, lead in leads.items() if lead == "annual"] == ["education"]
    # Education: teachers have annual wages only, so the annual figure leads, and the hourly
    # one says how few jobs it covers
    education = read(
        built.warehouse,
        "SELECT * FROM out_profiles__cluster_summary WHERE cluster_code = 'education'",
    ).row(0, named=True)
    edu = (built.output / RELEASE / "education.html").read_text()
    edu_headline = " ".join(
        edu[edu.index('id="headline"') : edu.index('id="sub-clusters"')].split()
    )
    typical = f"${education['qualifying_wage_annual_median_emp_weighted_avg_usd']:,.0f}"
    assert f'<dt>Typical annual wage</dt> <dd><span class="big">{typical}</span>' in edu_headline
    assert (
        f"covering {education['qualifying_wage_hourly_median_covered_employment_count']:,} of "
        f"the {education['qualifying_employment_count']:,} qualifying jobs" in edu_headline
    )


def test_downloads_equal_the_warehouse_and_the_review_sheet_is_a_decisions_file(
    built: Settings,
) -> None:
    folder = built.output / RELEASE / "downloads" / "healthcare-human-services"
    occupations = pl.read_csv(
        folder / "healthcare-human-services-occupations.csv", infer_schema_length=None
    )
    expected = read(
        built.warehouse,
        "SELECT * FROM out_profiles__cluster_occupations "
        "WHERE cluster_code = 'healthcare-human-services'",
    )
    assert occupations.height == expected.height
    assert_frame_equal(
        occupations.select("soc_code", "employment_count").sort("soc_code"),
        expected.select("soc_code", "employment_count").sort("soc_code"),
        check_dtypes=False,
    )
    with (folder / "healthcare-human-services-review-sheet.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[: len(REVIEW_COLUMNS)] == REVIEW_COLUMNS
    assert all(r["decision"] == "" and r["rationale"] == "" for r in rows)
    assigned = read(
        built.warehouse,
        "SELECT count(*) AS n FROM out_clusters__occupation_cluster "
        "WHERE cluster_code = 'healthcare-human-services'",
    )["n"][0]
    assert len(rows) == assigned
    assert {r["cluster"] for r in rows} == {"Healthcare & Human Services"}
    # the reviewer sees why each row is there, e.g. how an industry-only row got its sub-cluster
    fundraisers = next(r for r in rows if r["soc_code"] == "13-1131")
    evidence = read(
        built.warehouse,
        "SELECT evidence FROM out_clusters__occupation_cluster "
        "WHERE cluster_code = 'healthcare-human-services' AND soc_code = '13-1131'",
    ).item()
    assert fundraisers["context_evidence"] == evidence
    assert "sub-cluster by industry: NAICS 813" in evidence
    # the workbook: typed entries stay text (a date typed 2026-12-01 is not turned into a
    # date Excel then saves as 12/1/2026), and decision offers its four words
    import openpyxl

    book = openpyxl.load_workbook(folder / "healthcare-human-services-review-sheet.xlsx")
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    assert header[: len(REVIEW_COLUMNS)] == REVIEW_COLUMNS
    date = header.index("date") + 1  # column dimensions may span columns (min..max)
    [dim] = [d for d in sheet.column_dimensions.values() if d.min <= date <= d.max]
    assert dim.number_format == "@"
    decision = openpyxl.utils.get_column_letter(header.index("decision") + 1)
    [rule] = sheet.data_validations.dataValidation
    assert rule.type == "list" and rule.formula1 == '"add,remove,move,keep"'
    assert str(rule.sqref).startswith(f"{decision}2:{decision}")
    # the cluster's workbook says what every column of its sheets means (the data dictionary)
    workbook = openpyxl.load_workbook(folder / "healthcare-human-services.xlsx", read_only=True)
    assert workbook.sheetnames[:2] == ["about", "columns"]
    meanings = {
        (sheet_name, column): meaning
        for sheet_name, column, meaning in workbook["columns"].iter_rows(
            min_row=2, values_only=True
        )
    }
    listed = 0
    for sheet_name in workbook.sheetnames[2:]:
        header = next(workbook[sheet_name].iter_rows(max_row=1, values_only=True))
        for column in header:
            table = DOWNLOAD_TABLES[sheet_name]
            meaning = column_description(table, column) or ""
            assert meanings[(sheet_name, column)] == for_a_workbook(meaning)
            assert "NULL" not in meanings[(sheet_name, column)]  # an empty cell, to a reader
            assert meanings[(sheet_name, column)], (sheet_name, column)
            listed += 1
    assert listed == len(meanings) > 100
    # and the screen its margins and statuses come from
    about = [r[0] for r in workbook["about"].iter_rows(min_row=2, values_only=True)]
    [screen] = [line for line in about if line.startswith("Screen: ")]
    assert "its national median wage meets the living wage of $25.00/h" in screen
    # where the skill tiers came from, in the report's own words (offline: the built-in rules)
    assert about[about.index(screen) + 1].startswith(
        "Skill tier from the project's built-in SOC-group rules"
    )
    assert (
        "Employment-weighted average (not a median)"
        in meanings[("summary", "qualifying_wage_annual_median_emp_weighted_avg_usd")]
    )


def test_a_filled_review_sheet_flows_back_and_rerenders_one_cluster(
    built: Settings, tmp_path: Path
) -> None:
    decisions = tmp_path / "decisions.csv"
    settings = copy_of(built, tmp_path / "copy", review_decisions_path=decisions)
    sheet = settings.output / RELEASE / "downloads" / "digital-technology"
    with (sheet / "digital-technology-review-sheet.csv").open() as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    # an occupation the cluster shares with another (removing it leaves it a cluster)
    soc = read(
        settings.warehouse,
        "SELECT soc_code FROM out_profiles__cluster_occupations WHERE cluster_code = "
        "'digital-technology' AND cluster_count > 1 ORDER BY employment_count DESC LIMIT 1",
    )["soc_code"][0]
    for row in rows:
        if row["soc_code"] == soc:
            row.update(
                decision="remove", reviewer="IAG <Digital>", date="2026-11-20", rationale=MARKUP
            )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    decisions.write_text(buffer.getvalue())

    before = digests(settings.output / RELEASE)
    # one run: decisions -> clusters -> profile tables -> this cluster's report + the index
    applied = run_refresh(
        settings, "apply_review_decisions", release=RELEASE, only_clusters=["digital-technology"]
    )
    assert applied.success, failure_text(applied)
    keys = {
        (
            m.event_specific_data.materialization.asset_key.to_user_string(),
            m.event_specific_data.materialization.partition,
        )
        for m in applied.get_asset_materialization_events()
    }
    assert {k for k in keys if k[0].startswith("out_reports")} == {
        ("out_reports__cluster_report/digital-technology", RELEASE),
        ("out_reports__index", RELEASE),
    }
    assert ("out_clusters__occupation_cluster", RELEASE) in keys
    assert ("out_profiles__cluster_occupations", RELEASE) in keys
    after = digests(settings.output / RELEASE)
    changed = {name for name in after if before.get(name) != after[name]}
    assert "digital-technology.html" in changed
    # no other cluster's page or downloads were touched
    assert not {
        n
        for n in changed
        if n.endswith(".html") and n not in {"digital-technology.html", "index.html"}
    }
    assert all(
        n.startswith("downloads/digital-technology/") for n in changed if n.startswith("downloads/")
    )

    page = (settings.output / RELEASE / "digital-technology.html").read_text()
    row = rf'<tr data-status="\w+">\s*<td data-search>{soc}</td>'
    assert not re.search(row, page)  # removed from the occupations table by the reviewer
    assert re.search(row, (built.output / RELEASE / "digital-technology.html").read_text())
    review = page[page.index('id="review"') : page.index('id="methodology"')]
    assert "IAG &lt;Digital&gt;" in review and "&lt;script&gt;window.__injected" in review
    assert "<script>window.__injected" not in page

    # The next review sheet carries the decision already made (the occupation it took out is
    # listed with it), so that sheet, saved as the decisions file as it is, changes nothing.
    with (sheet / "digital-technology-review-sheet.csv").open() as handle:
        again = list(csv.DictReader(handle))
    [made] = [r for r in again if r["soc_code"] == soc]
    assert (made["decision"], made["reviewer"], made["rationale"]) == (
        "remove",
        "IAG <Digital>",
        MARKUP,
    )
    assert all(r["decision"] == "" for r in again if r["soc_code"] != soc)
    shutil.copy(sheet / "digital-technology-review-sheet.csv", decisions)
    assigned = table_digests(settings.warehouse)["out_clusters__occupation_cluster"]
    pages = digests(settings.output / RELEASE)
    second = run_refresh(
        settings, "apply_review_decisions", release=RELEASE, only_clusters=["digital-technology"]
    )
    assert second.success, failure_text(second)
    assert table_digests(settings.warehouse)["out_clusters__occupation_cluster"] == assigned
    assert digests(settings.output / RELEASE) == pages


def test_data_values_containing_markup_render_as_text(built: Settings, tmp_path: Path) -> None:
    settings = copy_of(built, tmp_path)
    con = duckdb.connect(str(settings.warehouse))
    try:
        for table in ("out_profiles__cluster_occupations", "out_clusters__occupation_cluster"):
            con.execute(
                f"UPDATE {table} SET occupation_name = ? WHERE soc_code = '15-1252'", [MARKUP]
            )
        con.execute(
            "UPDATE raw_framework__sub_clusters SET sub_cluster_name = ? "
            "WHERE sub_cluster_code = (SELECT min(sub_cluster_code) FROM "
            "raw_framework__sub_clusters WHERE cluster_code = 'digital-technology')",
            [MARKUP],
        )
    finally:
        con.close()
    render_one(settings, "digital-technology")
    page = (settings.output / RELEASE / "digital-technology.html").read_text()
    assert "<script>window.__injected" not in page and '<b id="injected">' not in page
    assert "&lt;script&gt;window.__injected = 1&lt;/script&gt;" in page
    if not chromium():
        pytest.skip("needs Debian's chromium")
    from tests.support.report_browser import inspect_pages

    [report] = inspect_pages(
        [settings.output / RELEASE / "digital-technology.html"],
        screenshot_dir=ARTIFACTS / "markup",
        evaluate="""() => ({
            injected: window.__injected === undefined ? null : window.__injected,
            bold: document.querySelectorAll('#injected').length,
            text: document.querySelector('#occupations-table').innerText.includes(
                '<script>window.__injected = 1</script>'),
            svgText: Array.from(document.querySelectorAll('#chart-wages text')).some(
                t => t.textContent.includes('<script>window.__injected')),
        })""",
    )
    assert report.evaluated == {"injected": None, "bold": 0, "text": True, "svgText": True}
    assert report.page_errors == [] and report.console_errors == []


def test_reports_render_from_a_warehouse_an_earlier_version_built(
    built: Settings, tmp_path: Path
) -> None:
    """raw_review__decisions without the source_file column (one decisions file, before
    folders): render_reports works without re-running the assignment first."""
    settings = copy_of(built, tmp_path)
    con = duckdb.connect(str(settings.warehouse))
    try:  # one decision, read by that version: a shared occupation out of Digital Technology
        con.execute(
            "INSERT INTO raw_review__decisions BY NAME SELECT 'decisions.csv' AS source_file, "
            "2 AS line, soc_code, 'remove' AS decision, cluster_code, 'A' AS reviewer, "
            "'2026-01-05' AS decided_on, 'r' AS rationale "
            "FROM out_profiles__cluster_occupations WHERE cluster_code = 'digital-technology' "
            "AND cluster_count > 1 ORDER BY employment_count DESC LIMIT 1"
        )
        con.execute("ALTER TABLE raw_review__decisions DROP COLUMN source_file")
    finally:
        con.close()
    result = run_refresh(settings, "render_reports", release=RELEASE)
    assert result.success, failure_text(result)
    # a re-screen re-assigns without reading the decisions again: their record (no file name)
    # meets its contract, and the report cites the decision
    result = run_refresh(settings, "qualify_occupations", release=RELEASE)
    assert result.success, failure_text(result)
    recorded = read(settings.warehouse, "SELECT source_file FROM out_clusters__review_decisions")
    assert recorded["source_file"].to_list() == [None]
    page = (settings.output / RELEASE / "digital-technology.html").read_text()
    assert "the decisions file, line 2" in page


def test_output_is_deterministic(built: Settings, tmp_path: Path) -> None:
    """A whole second run on the same inputs (the same unpacked sources) writes the same bytes."""
    settings = copy_of(built, tmp_path, cache_dir=built.cache)
    shutil.rmtree(settings.output)
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    first, second = digests(built.output / RELEASE), digests(settings.output / RELEASE)
    assert len(first) == 14 + 14 * 9 + 4  # pages, downloads, index, plotly.js, css, js
    assert second == first


@pytest.mark.skipif(not chromium(), reason="needs Debian's chromium")
def test_every_report_renders_offline_in_chromium(built: Settings) -> None:
    from tests.support.report_browser import inspect_pages

    folder = built.output / RELEASE
    pages = [
        built.output / "index.html",
        folder / "index.html",
        *[folder / f"{slug}.html" for slug in CLUSTERS],
    ]
    reports = inspect_pages(
        pages,
        screenshot_dir=ARTIFACTS,
        evaluate="""() => {
            const buttons = Array.from(document.querySelectorAll('.modebar-btn'));
            const unique = values => Array.from(new Set(values));
            return {
                titles: unique(buttons.map(b => b.dataset.title)),
                labels: unique(buttons.map(b => b.getAttribute('aria-label'))),
                buttons: buttons.length,
                drawings_read_aloud: document.querySelectorAll(
                    '[data-chart] svg.main-svg:not([aria-hidden="true"])').length,
                chart_roles: unique(Array.from(document.querySelectorAll('[data-chart]'))
                    .map(c => c.getAttribute('role'))),
                icons_read_aloud: document.querySelectorAll(
                    '.modebar-btn svg:not([aria-hidden="true"])').length,
            };
        }""",
    )
    for report in reports:
        name = report.path.name
        # the charts' toolbars: one button each, the local PNG download (no zoom or pan, which
        # were silent keyboard stops, and nothing that sends the data elsewhere), named as its
        # tooltip reads, not inside an image (which may not hold a button); the drawing itself
        # is hidden from screen readers, since the summary and the data table carry its figures
        if report.path.stem in CLUSTERS:
            found = report.evaluated
            assert found["titles"] == ["Download plot as a PNG"], name
            assert found["labels"] == found["titles"], name
            assert found["buttons"] == report.chart_slots, name
            assert found["drawings_read_aloud"] == 0 and found["icons_read_aloud"] == 0, name
            assert found["chart_roles"] == [None], name
        assert report.console_errors == [], name
        assert report.page_errors == [], name
        assert report.blocked_requests == [], name
        if report.path != pages[0]:  # the top-level page is a list of releases
            assert report.tables >= 1, name
        if report.path.stem in CLUSTERS:
            # sub-clusters, industries, wages, states (EP outlook is absent offline)
            assert report.chart_slots == 4, name
            assert report.charts_rendered == report.chart_slots, name
            assert report.chart_svgs >= report.chart_slots, name
            assert report.tables >= 7, name


@pytest.mark.skipif(not chromium(), reason="needs Debian's chromium")
def test_occupations_table_sorts_and_filters_without_a_server(built: Settings) -> None:
    from tests.support.report_browser import inspect_pages

    [report] = inspect_pages(
        [built.output / RELEASE / "advanced-manufacturing.html"],
        full_page=False,
        evaluate="""() => {
            const table = document.getElementById('occupations-table');
            const count = document.querySelector('[data-count-for="occupations-table"]');
            const initial = count.textContent;
            const box = document.querySelector('[data-filter-text="occupations-table"]');
            box.value = 'engineer'; box.dispatchEvent(new Event('input'));
            const visible = Array.from(table.tBodies[0].rows).filter(r => !r.hidden);
            const filtered = {count: count.textContent,
                allMatch: visible.every(
                    r => r.textContent.toLowerCase().includes('engineer'))};
            // a word of every row's hidden reason text ("high skill", "low skill"), not a name
            box.value = 'skill'; box.dispatchEvent(new Event('input'));
            const byReason = count.textContent;
            box.value = ''; box.dispatchEvent(new Event('input'));
            const col = Array.from(table.tHead.rows[0].cells).findIndex(
                th => th.textContent.trim() === 'Jobs');
            const jobs = table.tHead.rows[0].cells[col].querySelector('button');
            jobs.click();  // ascending
            jobs.click();  // descending
            const values = Array.from(table.tBodies[0].rows).map(r => r.cells[col].dataset.value)
                .filter(v => v !== '').map(Number);
            const sortedDesc = values.every((v, i) => i === 0 || values[i-1] >= v);
            return {initial, filtered, byReason, sortedDesc,
                    first: table.tBodies[0].rows[0].cells[0].textContent};
        }""",
    )
    result = report.evaluated
    total = read(
        built.warehouse,
        "SELECT count(*) AS n FROM out_profiles__cluster_occupations "
        "WHERE cluster_code = 'advanced-manufacturing'",
    )["n"][0]
    assert result["initial"] == f"Showing {total} of {total}"
    assert result["filtered"]["allMatch"] and result["filtered"]["count"] != result["initial"]
    # the filter looks at code, name and sub-cluster only, not at the reasons' hidden text
    named = read(
        built.warehouse,
        "SELECT count(*) AS n FROM out_profiles__cluster_occupations "
        "WHERE cluster_code = 'advanced-manufacturing' AND (soc_code || ' ' || occupation_name "
        "|| ' ' || coalesce(sub_cluster_names, '')) ILIKE '%skill%'",
    )["n"][0]
    assert result["byReason"] == f"Showing {named} of {total}"
    assert result["sortedDesc"]
    largest = read(
        built.warehouse,
        "SELECT soc_code FROM out_profiles__cluster_occupations "
        "WHERE cluster_code = 'advanced-manufacturing' "
        "ORDER BY employment_count DESC NULLS LAST LIMIT 1",
    )
    assert result["first"] == largest["soc_code"][0]


@pytest.mark.skipif(not chromium(), reason="needs Debian's chromium")
def test_charts_fit_a_phone_screen(built: Settings) -> None:
    """At 390 px: no two state tiles overlap, no two bar or wage labels overlap, and the labels
    leave the plot at least a third of the chart's width."""
    from tests.support.report_browser import inspect_pages

    [report] = inspect_pages(
        [built.output / RELEASE / "healthcare-human-services.html"],
        screenshot_dir=ARTIFACTS / "phone",
        width=390,
        evaluate="""() => {
            const overlaps = (rects) => rects.some((a, i) => rects.slice(i + 1).some(b =>
                a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5));
            const rects = (sel) => Array.from(document.querySelectorAll(sel))
                .map(e => e.getBoundingClientRect()).filter(r => r.width && r.height);
            const out = {};
            for (const id of ['chart-sub-clusters', 'chart-industries', 'chart-wages']) {
                const el = document.getElementById(id);
                out[id] = {labels: overlaps(rects('#' + id + ' .ytick text')),
                           plotShare: el._fullLayout._size.w / el.clientWidth};
            }
            out.tiles = overlaps(rects('#chart-states .scatterlayer .point'));
            out.tileCount = rects('#chart-states .scatterlayer .point').length;
            return out;
        }""",
    )
    result = report.evaluated
    assert result["tileCount"] >= 50 and not result["tiles"]
    for chart in ("chart-sub-clusters", "chart-industries", "chart-wages"):
        assert not result[chart]["labels"], chart
        assert result[chart]["plotShare"] >= 1 / 3, (chart, result[chart])
    assert report.page_errors == [] and report.console_errors == []


@pytest.mark.skipif(not chromium(), reason="needs Debian's chromium")
def test_printed_report_hides_controls_and_shows_every_data_table(built: Settings) -> None:
    from tests.support.report_browser import inspect_pages

    [report] = inspect_pages(
        [built.output / RELEASE / "education.html"],
        screenshot_dir=ARTIFACTS / "print",
        media="print",
        evaluate="""() => ({
            nav: getComputedStyle(document.querySelector('nav')).display,
            filters: getComputedStyle(document.querySelector('.filters')).display,
            closed: Array.from(document.querySelectorAll('details:not([open])'))
                .filter(d => !d.closest('#occupations-table')).length,
            tables: document.querySelectorAll('details.data-table table').length,
            // the occupations table prints short: reasons closed, the outer percentiles hidden
            reasonsOpen: document.querySelectorAll('#occupations-table details[open]').length,
            percentiles: getComputedStyle(
                document.querySelector('#occupations-table th.screen')).display,
            printNote: getComputedStyle(document.querySelector('.print-only')).display,
            // Chrome repeats a table's heading row on each printed page only if its cells are
            // not sticky and hold plain text, not the sort buttons' boxes
            headings: Array.from(new Set(Array.from(document.querySelectorAll('thead th'))
                .map(th => getComputedStyle(th).position))),
            sortButtons: Array.from(new Set(Array.from(document.querySelectorAll('thead th button'))
                .map(b => getComputedStyle(b).display))),
        })""",
    )
    assert report.evaluated["nav"] == "none" and report.evaluated["filters"] == "none"
    assert report.evaluated["closed"] == 0 and report.evaluated["tables"] == 4
    assert report.evaluated["reasonsOpen"] == 0 and report.evaluated["percentiles"] == "none"
    assert report.evaluated["printNote"] == "inline"
    assert report.evaluated["headings"] == ["static"]
    assert report.evaluated["sortButtons"] == ["contents"]
    assert report.charts_rendered == report.chart_slots == 4


@pytest.mark.skipif(not chromium(), reason="needs Debian's chromium")
def test_reading_aids_a_reader_relies_on(built: Settings, tmp_path: Path) -> None:
    """The occupations table keeps its heading row in view while it scrolls, a focused sort
    heading shows its outline, and a page sent without its folder says so (not blank charts)."""
    from tests.support.report_browser import inspect_pages

    alone = tmp_path / "healthcare-human-services.html"
    shutil.copy(built.output / RELEASE / alone.name, alone)
    probe = """() => {
        const notice = document.querySelector('.needs-files');
        const shown = notice.getBoundingClientRect().height > 0;
        const button = document.querySelector('#occupations-table thead th button');
        if (!button) return {notice: shown};  // report.js did not load
        const box = document.querySelector('#occupations-table').closest('.scroll');
        box.scrollIntoView();
        box.scrollTop = 2500;
        button.focus({focusVisible: true});
        const heading = button.closest('th').getBoundingClientRect();
        return {
            notice: shown,
            scrolled: box.scrollTop,
            headingInView: Math.abs(heading.top - box.getBoundingClientRect().top) < 2,
            outline: getComputedStyle(button).outlineStyle,
        };
    }"""
    in_place, copied = inspect_pages(
        [built.output / RELEASE / alone.name, alone], evaluate=probe, full_page=False
    )
    assert in_place.evaluated["notice"] is False
    assert in_place.evaluated["scrolled"] > 1000 and in_place.evaluated["headingInView"]
    assert in_place.evaluated["outline"] == "solid"
    assert copied.evaluated == {"notice": True}
    assert copied.charts_rendered == 0  # no plotly.min.js beside it: the notice says why


def test_the_review_workbook_filled_in_excel_is_a_decisions_file(
    built: Settings, tmp_path: Path
) -> None:
    """The review sheet as the report offers it (.xlsx), filled in and returned: its decision
    is applied, cited by the workbook's row, as the CSV's would be by its line."""
    import openpyxl

    settings = copy_of(built, tmp_path / "copy")
    offered = settings.output / RELEASE / "downloads" / "digital-technology"
    returned = tmp_path / "returned" / "digital-technology-review-sheet.xlsx"
    returned.parent.mkdir()
    book = openpyxl.load_workbook(offered / "digital-technology-review-sheet.xlsx")
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    soc = read(
        settings.warehouse,
        "SELECT soc_code FROM out_profiles__cluster_occupations WHERE cluster_code = "
        "'digital-technology' AND cluster_count > 1 ORDER BY employment_count DESC LIMIT 1",
    )["soc_code"][0]
    [number] = [r[0].row for r in sheet.iter_rows(min_row=2) if r[0].value == soc]
    for column, value in {
        "decision": "remove",
        "reviewer": "IAG Digital",
        "date": "2026-11-20",
        "rationale": "works elsewhere",
    }.items():
        sheet.cell(number, header.index(column) + 1).value = value
    book.save(returned)
    settings = settings.model_copy(update={"review_decisions_path": returned.parent})
    applied = run_refresh(
        settings, "apply_review_decisions", release=RELEASE, only_clusters=["digital-technology"]
    )
    assert applied.success, failure_text(applied)
    page = (settings.output / RELEASE / "digital-technology.html").read_text()
    review = page[page.index('id="review"') : page.index('id="methodology"')]
    assert f"digital-technology-review-sheet.xlsx, row {number}" in review
    assert "works elsewhere" in review
    assert not re.search(rf'<tr data-status="\w+">\s*<td data-search>{soc}</td>', page)
