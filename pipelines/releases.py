"""OEWS releases as Dagster partitions: every OEWS-derived asset is partitioned by release
(e.g. `2025A01` for May 2025), so a new release never replaces an older one and any release's
profiles and reports can be rebuilt from that release's tables.

The set of releases grows each year, so the partitions are dynamic: `ccp run`, the schedule and
the new-release sensor add a release before they run it; in the UI, add one under
Materialize → partition → "Add partition".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from dagster import (
    AssetExecutionContext,
    AssetKey,
    DagsterInstance,
    DynamicPartitionsDefinition,
    ExecuteInProcessResult,
    Failure,
    JobDefinition,
)

RELEASES = DynamicPartitionsDefinition(name="oews_release")
RELEASE_CODE = re.compile(r"^\d{4}A01$")
log = logging.getLogger(__name__)


def check_release_code(release: str) -> str:
    """`release` if it looks like an OEWS release code (YYYYA01), else a clear ValueError."""
    if not RELEASE_CODE.fullmatch(release):
        raise ValueError(
            f"{release!r} is not an OEWS release code: use the form YYYYA01 (2025A01 is the "
            "May 2025 release, 2024A01 May 2024)."
        )
    return release


def partition_release(context: AssetExecutionContext) -> str:
    """The run's partition, an OEWS release code. A key that is not one (typed into the UI's
    "Add partition", say) fails the step before it reads or writes anything, and is removed
    from the partition list, where it would otherwise stay for ever."""
    key = context.partition_key
    try:
        return check_release_code(key)
    except ValueError as err:
        context.instance.delete_dynamic_partition(RELEASES.name, key)
        raise Failure(
            f"[release] partition {err} The step changed nothing, and {key!r} was removed "
            "from the list of partitions: add the release again under its code (e.g. "
            "2026A01 for May 2026)."
        ) from None


def add_release(instance: DagsterInstance, release: str) -> bool:
    """Make `release` a partition of every OEWS-derived asset (idempotent); True if it is new."""
    if instance.has_dynamic_partition(RELEASES.name, check_release_code(release)):
        return False
    instance.add_dynamic_partitions(RELEASES.name, [release])
    return True


def run_job(
    job: JobDefinition,
    instance: DagsterInstance,
    release: str | None,
    *,
    only_clusters: Iterable[str] | None = None,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
) -> ExecuteInProcessResult:
    """Run `job` in this process for one release (the partition), as `ccp run`, the tests and
    the benchmarks do. `only_clusters` limits the cluster reports to those slugs (the other
    steps of the job run as usual)."""
    from assets.profiles import REPORT_KEYS

    selection: list[AssetKey] | None = None
    if only_clusters is not None:
        wanted = set(only_clusters)
        unknown = wanted - set(REPORT_KEYS.values())
        if unknown:
            raise ValueError(
                f"unknown cluster(s) {sorted(unknown)}: use {sorted(REPORT_KEYS.values())}"
            )
        if (
            AssetKey("out_qualify__occupation_qualification")
            in job.asset_layer.executable_asset_keys
        ):
            raise ValueError(
                f"job {job.name} re-screens every occupation, which changes every cluster's "
                "report, so it renders all of them: run it without --cluster"
            )
        selection = [
            key
            for key in job.asset_layer.executable_asset_keys
            if key not in REPORT_KEYS or REPORT_KEYS[key] in wanted
        ]
    partition_key, added = None, False
    if job.partitions_def is not None:
        if release is None:
            raise ValueError(f"job {job.name} is partitioned by OEWS release: name a release")
        added = add_release(instance, release)
        partition_key = release
    result = job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        asset_selection=selection,
        raise_on_error=False,
        run_config=run_config,
        tags=tags,
    )
    if (
        added
        and not result.success
        and not any(
            event.event_specific_data.materialization.partition == release
            for event in result.get_asset_materialization_events()
        )
    ):
        # a release this run added and could not build anything for (a mistyped year, a
        # source without it): not left behind as a partition the UI would list for ever
        instance.delete_dynamic_partition(RELEASES.name, release)
    return result
