"""A report never quietly shows figures the warehouse no longer holds: a reviewer's `move`
changes two clusters, and a run that renders only one of them says so, marks the other on the
index, and (through `ccp run`) re-renders it."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult

from pipelines.reporting.freshness import index_out_of_date, rendered_fingerprint, stale_reports
from pipelines.settings import Settings
from tests.support.pipeline import (
    ccp,
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    shared_embedded_build,
)

RELEASE = "2025A01"
SOURCE, TARGET = "healthcare-human-services", "management-entrepreneurship"
STALE_MARK = '<span class="meta stale">(report out of date'


@pytest.fixture
def with_a_move(tmp_path: Path) -> tuple[Settings, str, str]:
    """A copy of the shared build whose decisions file moves the source cluster's largest
    occupation found in it alone to the target cluster, as a reviewer fills in the sheet."""
    built = shared_embedded_build()
    decisions = tmp_path / "decisions.csv"
    settings = isolated_settings(tmp_path / "copy", review_decisions_path=decisions)
    settings.warehouse.parent.mkdir(parents=True)
    shutil.copyfile(built.warehouse, settings.warehouse)
    shutil.copytree(built.output, settings.output)
    soc, name = read(
        settings.warehouse,
        "SELECT soc_code, occupation_name FROM out_profiles__cluster_occupations "
        "WHERE cluster_code = ? AND cluster_count = 1 AND status = 'qualifies' "
        "ORDER BY employment_count DESC LIMIT 1",
        [SOURCE],
    ).row(0)
    target, sub_cluster = read(
        settings.warehouse,
        "SELECT c.cluster_name, s.sub_cluster_name FROM raw_framework__clusters c "
        "JOIN raw_framework__sub_clusters s USING (cluster_code) WHERE cluster_code = ? "
        "ORDER BY s.sub_cluster_code LIMIT 1",
        [TARGET],
    ).row(0)
    sheet = settings.output / RELEASE / "downloads" / SOURCE / f"{SOURCE}-review-sheet.csv"
    with sheet.open() as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    for row in rows:
        if row["soc_code"] == soc:
            row.update(decision="move", to_cluster=target, to_sub_cluster=sub_cluster)
            row.update(reviewer="IAG", date="2026-12-05", rationale="works in management")
    with decisions.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return settings, soc, name


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "CCP_WAREHOUSE_PATH": str(settings.warehouse),
        "CCP_OUTPUT_DIR": str(settings.output),
        "CCP_REVIEW_DECISIONS_PATH": str(settings.review_decisions_path),
    }


def apply_for_source(tmp_path: Path, settings: Settings) -> subprocess.CompletedProcess:
    """`ccp run --job apply_review_decisions --cluster SOURCE`, as the README says."""
    return ccp(
        tmp_path,
        "run",
        "--job",
        "apply_review_decisions",
        "--release",
        RELEASE,
        "--cluster",
        SOURCE,
        **env_of(settings),
    )


def apply_in_process(settings: Settings) -> tuple[DagsterInstance, ExecuteInProcessResult]:
    """`apply_review_decisions` with only the source cluster's report (and the index)
    selected, as a UI selection does; on a fresh in-memory instance, returned for its logs."""
    instance = DagsterInstance.ephemeral()
    result = run_refresh(
        settings,
        "apply_review_decisions",
        release=RELEASE,
        only_clusters=[SOURCE],
        instance=instance,
    )
    assert result.success, failure_text(result)
    return instance, result


def row_of(page: Path, soc: str) -> bool:
    return bool(re.search(rf"<td data-search>{soc}</td>", page.read_text()))


def test_a_run_that_renders_one_side_of_a_move_marks_the_other_out_of_date(
    with_a_move: tuple[Settings, str, str], tmp_path: Path
) -> None:
    settings, soc, name = with_a_move
    folder = settings.output / RELEASE
    target_page = folder / f"{TARGET}.html"
    before = target_page.read_bytes()
    assert (
        rendered_fingerprint(target_page) and STALE_MARK not in (folder / "index.html").read_text()
    )

    # As a UI selection does: only the source cluster's report (and the index) selected.
    instance, result = apply_in_process(settings)
    assert not row_of(folder / f"{SOURCE}.html", soc)
    assert target_page.read_bytes() == before  # not selected: not rewritten, so out of date
    index = (folder / "index.html").read_text()
    marked = re.findall(r'<a href="([\w-]+)\.html">[^<]*</a> <span class="meta stale">', index)
    assert marked == [TARGET]
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level >= 30]
    assert any("show figures the tables no longer hold" in w and TARGET in w for w in warnings)
    info = ccp(tmp_path, "info", **env_of(settings))
    assert info.returncode == 0, info.stderr[-2000:]
    assert f"or by an earlier version): {TARGET}; `ccp run --job render_reports" in info.stdout

    # `ccp run ... --cluster SOURCE` re-renders whatever else the run changed.
    done = apply_for_source(tmp_path, settings)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"not asked to render are out of date ({TARGET}: the run changed" in done.stderr
    assert row_of(target_page, soc), f"{name} ({soc}) is not in the {TARGET} report"
    assert STALE_MARK not in (folder / "index.html").read_text()
    assert "Out of date" not in done.stdout


def test_ccp_run_with_cluster_renders_both_sides_of_a_move_in_one_command(
    with_a_move: tuple[Settings, str, str], tmp_path: Path
) -> None:
    settings, soc, name = with_a_move
    folder = settings.output / RELEASE
    untouched = {  # a re-render the same day writes the same bytes: compare the files' times
        p.name: p.stat().st_mtime_ns
        for p in folder.glob("*.html")
        if p.stem not in {SOURCE, TARGET, "index"}
    }
    done = apply_for_source(tmp_path, settings)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not row_of(folder / f"{SOURCE}.html", soc)
    assert row_of(folder / f"{TARGET}.html", soc)
    index = (folder / "index.html").read_text()
    assert STALE_MARK not in index
    # the index's figures and the target report's agree
    assigned = read(
        settings.warehouse,
        "SELECT assigned_occupation_count FROM out_profiles__cluster_summary "
        "WHERE release_code = ? AND cluster_code = ?",
        [RELEASE, TARGET],
    ).item()
    assert f"of {assigned} assigned" in (folder / f"{TARGET}.html").read_text()
    # both reports list the decision by name, as the reviewer wrote it, not by codes
    for cluster in (SOURCE, TARGET):
        page = (folder / f"{cluster}.html").read_text()
        review = page[page.index("Reviewer decisions applied") : page.index('id="methodology"')]
        assert f"<td>{name}</td><td>move</td>" in review
        assert "<td>Healthcare &amp; Human Services / " in review
        assert "<td>Management &amp; Entrepreneurship / " in review
        assert f"{SOURCE}/" not in review  # no sub-cluster codes
    # the clusters the move does not touch were left alone
    assert {n: (folder / n).stat().st_mtime_ns for n in untouched} == untouched
    info = ccp(tmp_path, "info", **env_of(settings))  # both runs left the index current
    assert info.returncode == 0 and "The index of" not in info.stdout, info.stdout


def test_a_page_without_a_fingerprint_counts_as_out_of_date(
    with_a_move: tuple[Settings, str, str],
) -> None:
    """A page made before reports recorded their figures: nothing says it is current. And a
    folder of a release this warehouse does not hold is not judged at all."""
    settings, _, _ = with_a_move
    folder = settings.output / RELEASE
    page = folder / "construction.html"
    page.write_text(re.sub(r'<meta name="ccp-data-fingerprint"[^>]*>\n?', "", page.read_text()))
    assert rendered_fingerprint(page) is None
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert stale_reports(con, settings.output, RELEASE) == ["construction"]
        shutil.copytree(folder, settings.output / "2024A01")
        assert stale_reports(con, settings.output, "2024A01") == []
        assert index_out_of_date(con, settings.output, "2024A01", []) is None
        # the index too: made before it recorded what it shows
        index = folder / "index.html"
        assert index_out_of_date(con, settings.output, RELEASE, ["construction"]) is not None
        index.write_text(re.sub(r'<meta name="ccp-index-state"[^>]*>\n?', "", index.read_text()))
        note = index_out_of_date(con, settings.output, RELEASE, ["construction"])
        assert note and "was made by an earlier version of the project" in note
    finally:
        con.close()


def test_a_report_rendered_without_the_index_says_the_index_is_out_of_date(
    with_a_move: tuple[Settings, str, str], tmp_path: Path
) -> None:
    """In the UI a researcher may select one report and not the index: the report is current
    again, the index still marks it out of date. The run and `ccp info` say so, and
    materializing the index clears it."""
    from assets.profiles import INDEX, REPORT_KEYS
    from pipelines.definitions import build_definitions

    settings, soc, _ = with_a_move
    folder = settings.output / RELEASE
    instance, _ = apply_in_process(settings)
    info = ccp(tmp_path, "info", **env_of(settings))
    assert "The index of" not in info.stdout  # it marks the target, as it should

    target_key = next(k for k, slug in REPORT_KEYS.items() if slug == TARGET)
    job = build_definitions(settings).resolve_job_def("render_reports")

    def render(*keys: AssetKey) -> list[str]:
        done = job.execute_in_process(
            instance=instance, partition_key=RELEASE, asset_selection=list(keys)
        )
        assert done.success, failure_text(done)
        return [e.user_message for e in instance.all_logs(done.run_id) if e.level >= 30]

    warnings = render(target_key)  # the report alone, as a UI selection can
    assert row_of(folder / f"{TARGET}.html", soc)
    assert STALE_MARK in (folder / "index.html").read_text()  # not selected: as it was
    assert any(f"the index of {RELEASE} no longer matches" in w for w in warnings), warnings
    info = ccp(tmp_path, "info", **env_of(settings))
    assert f"The index of {RELEASE} no longer matches the tables and reports" in info.stdout
    assert "Out of date (" not in info.stdout

    warnings = render(INDEX)
    assert STALE_MARK not in (folder / "index.html").read_text()
    assert not any("the index of" in w for w in warnings), warnings
    info = ccp(tmp_path, "info", **env_of(settings))
    assert "The index of" not in info.stdout


def test_a_refused_decision_is_not_shown_as_applied(
    with_a_move: tuple[Settings, str, str], tmp_path: Path
) -> None:
    """A decisions file whose assignment is refused (a remove that leaves a qualifying
    occupation in no cluster) replaces raw_review__decisions but not the assignment: a report
    rendered afterwards lists the decisions applied, not the refused one, and both the run and
    `ccp info` say the two differ."""
    settings, soc, _ = with_a_move
    apply_in_process(settings)  # the move is applied
    removed = read(
        settings.warehouse,
        "SELECT soc_code FROM out_profiles__cluster_occupations WHERE cluster_code = ? "
        "AND cluster_count = 1 AND status = 'qualifies' AND soc_code <> ? "
        "ORDER BY employment_count DESC LIMIT 1",
        [SOURCE, soc],
    ).item()
    with settings.review_decisions_path.open() as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    for row in rows:
        if row["soc_code"] == removed:
            row.update(decision="remove", reviewer="IAG", date="2026-12-05", rationale="x")
    with settings.review_decisions_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    refused = run_refresh(settings, "apply_review_decisions", release=RELEASE)
    assert not refused.success
    assert "every_qualifying_occupation_has_a_cluster" in failure_text(refused)
    decided = "SELECT soc_code, decision FROM {} ORDER BY 1"
    assert (removed, "remove") in read(
        settings.warehouse, decided.format("raw_review__decisions")
    ).rows()
    applied = read(settings.warehouse, decided.format("out_clusters__review_decisions")).rows()
    assert applied == [(soc, "move")]

    instance = DagsterInstance.ephemeral()
    rendered = run_refresh(
        settings, "render_reports", release=RELEASE, only_clusters=[SOURCE], instance=instance
    )
    assert rendered.success, failure_text(rendered)
    page = (settings.output / RELEASE / f"{SOURCE}.html").read_text()
    section = page[page.index("Reviewer decisions applied to this cluster") :]
    section = section[: section.index("</section>")]
    assert f'<td class="code">{soc}</td>' in section and "1 decision(s)" in section
    assert removed not in section
    warnings = [e.user_message for e in instance.all_logs(rendered.run_id) if e.level >= 30]
    assert any("not the ones the cluster assignment of 2025A01 applied" in w for w in warnings)
    info = ccp(tmp_path, "info", **env_of(settings))
    assert "Reviewer decisions: the reviewer decisions last read" in info.stdout


def test_only_the_clusters_a_decision_names_say_reviewers_placed_their_occupations(
    with_a_move: tuple[Settings, str, str],
) -> None:
    """The notice of which layers placed a report's occupations is the cluster's own: a move
    names the two clusters it touches, so a third cluster's report (not re-rendered) is still
    exact. The index's notice is the release's."""
    from pipelines.reporting.data import (
        load_cluster,
        release_policy,
        release_sources,
        sources_used,
    )

    settings, _, _ = with_a_move
    apply_in_process(settings)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        screened = release_policy(con, RELEASE)
        used = sources_used(con, RELEASE, screened)
        assert used.assignment_layers == ("reviewer", "rules")
        sources = release_sources(con, RELEASE, used)
        layers = {
            cluster: load_cluster(
                con, RELEASE, cluster, screened, used, sources
            ).used.assignment_layers
            for cluster in (SOURCE, TARGET, "agriculture")
        }
    finally:
        con.close()
    assert layers == {
        SOURCE: ("reviewer", "rules"),  # the move took an occupation away: no row, but named
        TARGET: ("reviewer", "rules"),
        "agriculture": ("rules",),
    }
