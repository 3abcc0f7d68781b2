"""The Dagster UI as a user meets it: `dagster dev` on 127.0.0.1, the asset graph, a run
launched through Dagster's own GraphQL API, and the graph rendered in headless Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.releases import RELEASES
from schemas.dictionary import column_description
from tests.support.ui_screenshot import (
    asset_graph_screenshot,
    asset_nodes,
    chromium,
    expand_all_groups,
    graphql,
    node_boxes,
    webserver,
)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LOCATION = "career_cluster_profiles"
RELEASE = "2025A01"
REPOSITORY = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}

ADD_PARTITION = """
mutation Add($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on PythonError { message }
  }
}
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
RUN_STATUS = """
query Status($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }
"""
LATEST_MATERIALIZATION = """
query Latest($key: AssetKeyInput!) {
  assetNodes(assetKeys: [$key]) {
    assetMaterializations(limit: 1) {
      metadataEntries {
        label
        ... on IntMetadataEntry { intValue }
        ... on MarkdownMetadataEntry { mdStr }
        ... on TableSchemaMetadataEntry { schema { columns { name description } } }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui")
    env = {
        "CCP_WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "CCP_OUTPUT_DIR": str(tmp / "reports"),
        "CCP_CACHE_DIR": str(tmp / "cache"),
    }
    with webserver(env) as url:
        yield url


def test_asset_graph_lists_every_asset_by_stage_with_descriptions(ui: str) -> None:
    nodes = asset_nodes(ui)
    groups: dict[str, set[str]] = {}
    for node in nodes:
        groups.setdefault(node["groupName"], set()).add(node["assetKey"]["path"][-1])
        assert node["description"], node["assetKey"]
    assert set(groups) == {"sources", "staging", "qualify", "clusters", "profiles"}
    assert {"int_qualify__skill_tiers", "out_qualify__occupation_qualification"} <= groups[
        "qualify"
    ]
    assert {"raw_oews__files", "raw_naics__codes", "raw_soc__codes"} <= groups["sources"]
    assert {"digital-technology", "out_reports__index"} <= groups["profiles"]
    assert {"stg_oews__estimates", "stg_oews__occupations", "stg_oews__release"} <= groups[
        "staging"
    ]


def test_materialize_from_the_ui_shows_row_counts_and_previews(ui: str) -> None:
    # the UI's "Add partition" for the release, then a run of that partition
    added = graphql(ui, ADD_PARTITION, {"repo": REPOSITORY, "name": RELEASES.name, "key": RELEASE})[
        "addDynamicPartition"
    ]
    assert added == {"__typename": "AddDynamicPartitionSuccess", "partitionKey": RELEASE}
    _, status = launch_and_wait(ui, "refresh_warehouse", RELEASE)
    assert status == "SUCCESS"
    node = graphql(ui, LATEST_MATERIALIZATION, {"key": {"path": ["stg_oews__estimates"]}})
    entries = {
        e["label"]: e for e in node["assetNodes"][0]["assetMaterializations"][0]["metadataEntries"]
    }
    assert entries["dagster/row_count"]["intValue"] == 370_172
    assert "| release_code | area_code |" in entries["preview"]["mdStr"]
    # the columns, each with its meaning from the data dictionary
    columns = {
        c["name"]: c["description"] for c in entries["dagster/column_schema"]["schema"]["columns"]
    }
    assert len(columns) == 43
    assert columns["employment_count"] == column_description(
        "stg_oews__estimates", "employment_count"
    )
    assert all(columns.values())


STEP_FAILURES = """
query Failures($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events { ... on ExecutionStepFailureEvent { stepKey error { message } } }
    }
  }
}
"""
PARTITION_KEYS = """
query Keys($key: AssetKeyInput!) {
  assetNodes(assetKeys: [$key]) { partitionKeysByDimension { partitionKeys } }
}
"""


def launch_and_wait(ui: str, job: str, partition: str) -> tuple[str, str | None]:
    params = {
        "selector": {**REPOSITORY, "pipelineName": job},
        "mode": "default",
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }
    launched = graphql(ui, LAUNCH, {"params": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 300
    status = None
    while time.monotonic() < deadline:
        status = graphql(ui, RUN_STATUS, {"runId": run_id})["runOrError"].get("status")
        if status in {"SUCCESS", "FAILURE", "CANCELED"}:
            break
        time.sleep(1)
    return run_id, status


def test_a_partition_that_is_not_a_release_fails_clearly_and_is_removed(ui: str) -> None:
    """A researcher types "May 2026" into the UI's "Add partition" and runs the reports job for
    it: the step says what a release code looks like, changes nothing, and the key leaves the
    partition list."""
    added = graphql(
        ui, ADD_PARTITION, {"repo": REPOSITORY, "name": RELEASES.name, "key": "May 2026"}
    )["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess"
    run_id, status = launch_and_wait(ui, "render_reports", "May 2026")
    assert status == "FAILURE"
    events = graphql(ui, STEP_FAILURES, {"runId": run_id})["logsForRun"]["events"]
    [message] = [e["error"]["message"] for e in events if e.get("error")]
    assert "[release] partition 'May 2026' is not an OEWS release code" in message
    assert "removed from the list of partitions" in message and "2026A01" in message
    nodes = graphql(ui, PARTITION_KEYS, {"key": {"path": ["out_profiles__cluster_summary"]}})
    [dimension] = nodes["assetNodes"][0]["partitionKeysByDimension"]
    assert "May 2026" not in dimension["partitionKeys"]


RUN_FAILURE = """
query RunFailure($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events { ... on RunFailureEvent { message } ... on ExecutionStepFailureEvent {
        error { message } failureMetadata { description } } }
    }
  }
}
"""


def test_a_failed_run_shows_the_projects_message_not_a_wrapper(ui: str) -> None:
    """The reports of a release the warehouse has not built: the step's failure is the
    project's message itself (its description, what the UI shows first), not Dagster's
    "Error occurred while executing op" with the message buried in the cause."""
    key = {"repo": REPOSITORY, "name": RELEASES.name, "key": "2019A01"}
    added = graphql(ui, ADD_PARTITION, key)
    assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess"
    run_id, status = launch_and_wait(ui, "render_reports", "2019A01")
    assert status == "FAILURE"
    events = graphql(ui, RUN_FAILURE, {"runId": run_id})["logsForRun"]["events"]
    [step] = [e for e in events if e.get("error")]
    assert "Error occurred while executing op" not in step["error"]["message"]
    assert step["failureMetadata"]["description"].startswith(
        "[reports] release 2019A01 has no profile tables in the warehouse"
    )
    assert (
        "What to do: build it first (`ccp run --release 2019A01`)"
        in (step["failureMetadata"]["description"])
    )


@pytest.mark.browser
@pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium")
def test_asset_graph_renders_in_chromium(ui: str) -> None:
    out = asset_graph_screenshot(ui, ARTIFACTS / "asset-graph.png")
    assert out.stat().st_size > 10_000
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1900})
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.add_init_script("localStorage.setItem('communityNux', '1')")
        page.goto(f"{ui}/asset-groups", wait_until="networkidle")
        expand_all_groups(page)
        page.wait_for_timeout(1500)
        assert len(node_boxes(page)) >= 17
        assert page.get_by_text("staging", exact=True).count() >= 1
        browser.close()
    assert errors == []
