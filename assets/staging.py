"""Stage 2, staging: typed, keyed, documented tables built by the SQL in `sql/`.

Each asset builds its table beside the live one, validates it against its pandera contract and
only then swaps it in, keeping other releases' rows. Checks beside each asset catch the known
OEWS traps (a shifted datatype mapping, dangling codes, an empty national total).
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl
from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, asset, multi_asset

from pipelines.checks import asset_checks, contract_check
from pipelines.metadata import build_table, table_metadata
from pipelines.releases import RELEASES, partition_release
from pipelines.sources.cache import refused_downloads_set_aside
from pipelines.sources.files import FetchedFile
from pipelines.sources.job_zones import job_zones_by_soc
from pipelines.sources.oews import verify_unchanged
from pipelines.sources.oews_cells import CELLS, cells_source, parsed_files
from pipelines.sources.oews_checks import check_cells, check_datatypes
from pipelines.sources.onet import attribution
from pipelines.sources.records import record_staged_source
from pipelines.sources.soc_alignment import alignment_map
from pipelines.staging_checks import OEWS_TRAP_CHECKS
from pipelines.warehouse import (
    WarehouseResource,
    fetch_all,
    fetch_one,
    query_frame,
    table_exists,
    write_frame,
)
from schemas import enforce_contract
from schemas.stg_oews__estimates import MEASURES

GROUP = "staging"
POOL = "duckdb"


def build(
    context: AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    table: str,
    params: list,
    *,
    per_release: bool = True,
    unordered: bool = False,
    inspect: Callable[[str], None] | None = None,
    source_errors: AbstractContextManager[Any] | None = None,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> MaterializeResult:
    """Build one staging table from its SQL file; log and return its metadata."""
    meta = build_table(
        con,
        table,
        params,
        per_release=per_release,
        unordered=unordered,
        inspect=inspect,
        source_errors=source_errors,
        before_commit=before_commit,
    )
    context.log.info(f"{table}: {meta['dagster/row_count']} rows")
    return MaterializeResult(metadata=meta)


# ---- OEWS ------------------------------------------------------------------------------------
ESTIMATES_DESCRIPTION = (
    "One row per (release, area, industry, occupation) with the 17 OEWS measures typed. "
    "Employment is an integer, wages are dollars; a published `-` is NULL with its footnote codes "
    "beside it (4 hourly/annual-only, 5 at or above the top code, 8 not released)."
)
FILES_DESCRIPTION = (
    "The OEWS files the release's estimates were built from (URL, bytes, sha256, ETag, times), "
    "copied from raw_oews__files only once staging accepted their data: the provenance reports "
    "cite. A fetch whose data was refused stays in raw_oews__files alone."
)


@multi_asset(
    specs=[
        AssetSpec(
            "stg_oews__estimates",
            group_name=GROUP,
            description=ESTIMATES_DESCRIPTION,
            kinds={"duckdb"},
            partitions_def=RELEASES,
            deps=[
                "raw_oews__files",
                "raw_oews__datatype",
                "raw_oews__footnote",
                "raw_oews__release",
            ],
        ),
        AssetSpec(
            "stg_oews__files",
            group_name=GROUP,
            description=FILES_DESCRIPTION,
            kinds={"duckdb"},
            partitions_def=RELEASES,
            deps=["raw_oews__files"],
        ),
    ],
    pool=POOL,
)
def stg_oews__estimates(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    """Parse the release's data file into typed estimates, then record the files it came from.

    The two tables are written in that order so the provenance never names a file whose values
    were refused.
    """
    with warehouse.get_connection() as con:
        release = partition_release(context)
        check_datatypes(con, release)
        files = parsed_files(con, release)
        for file in files:
            verify_unchanged(file)
        replaced = republished(con, release, files)
        source = cells_source(con, files, release)
        known = {
            r[0]
            for r in con.execute(
                "SELECT footnote_code FROM raw_oews__footnote WHERE release_code = ?", [release]
            ).fetchall()
        }
        counts: dict[str, int] = {}

        def check(table: str) -> None:
            counts.update(check_cells(con, table, CELLS, known, source.data, release))

        with source.relation, refused_downloads_set_aside(files):
            estimates = build(
                context,
                con,
                "stg_oews__estimates",
                [release],
                unordered=True,
                inspect=check,
                source_errors=source.read_errors,
            )
        provenance = build(context, con, "stg_oews__files", [release])
    estimates.metadata.update(counts)  # type: ignore[union-attr]
    if replaced:
        estimates.metadata["files_changed_since_staged"] = "; ".join(replaced)  # type: ignore[index]
        context.log.warning(
            f"{release} was staged before from other files: {'; '.join(replaced)}. BLS "
            "revised the release, or the copy staged before was incomplete or came from "
            "elsewhere. Its estimates are now the new file's (the reports' 'What changed' "
            "compares releases, not two versions of one); stg_oews__files cites the new file."
        )
    if counts["dash_without_footnote_count"]:
        context.log.warning(
            f"{counts['dash_without_footnote_count']} '-' values carry no footnote code"
        )
    yield MaterializeResult(asset_key="stg_oews__estimates", metadata=estimates.metadata)
    yield MaterializeResult(asset_key="stg_oews__files", metadata=provenance.metadata)


def republished(
    con: duckdb.DuckDBPyConnection, release: str, files: list[FetchedFile]
) -> list[str]:
    """The release's files whose bytes differ from those its staged estimates came from (BLS
    revised the release, or the earlier copy was incomplete or another's), which a run would
    otherwise replace silently."""
    if not table_exists(con, "stg_oews__files"):
        return []
    before = dict(
        fetch_all(
            con, "SELECT file_name, sha256 FROM stg_oews__files WHERE release_code = ?", [release]
        )
    )
    return [
        f"{f.name} changed (sha256 {before[f.name][:12]}… → {f.sha256[:12]}…)"
        for f in files
        if before.get(f.name) not in (None, f.sha256)
    ]


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=["stg_oews__estimates", "stg_oews__files"],
)
def stg_oews__release(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """One row per OEWS release: name, source, cell and value counts, top-code thresholds."""
    measures = list(MEASURES.values())
    published = " + ".join(f"count({m})" for m in measures)
    dashes = " + ".join(
        f"count_if({m} IS NULL AND {m}_footnote_codes IS NOT NULL)" for m in measures
    )
    with warehouse.get_connection() as con:
        release = partition_release(context)
        values, dash = fetch_one(
            con,
            f"SELECT {published}, {dashes} FROM stg_oews__estimates WHERE release_code = ?",
            [release],
        ) or (0, 0)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return build(context, con, "stg_oews__release", [release, values + dash, dash, now])


@asset(
    partitions_def=RELEASES, group_name=GROUP, pool=POOL, kinds={"duckdb"}, deps=["raw_oews__area"]
)
def stg_oews__areas(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """OEWS areas: the nation, 54 states and territories, metropolitan and nonmetropolitan areas."""
    with warehouse.get_connection() as con:
        return build(context, con, "stg_oews__areas", [partition_release(context)])


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=["raw_oews__industry"],
)
def stg_oews__industries(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """OEWS industry codes with their NAICS 2022 code, level and sector, and OEWS-only flags."""
    with warehouse.get_connection() as con:
        return build(context, con, "stg_oews__industries", [partition_release(context)])


@asset(
    partitions_def=RELEASES,
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=["raw_oews__occupation", "raw_oews__soc_alignment", "stg_soc__codes"],
)
def stg_oews__occupations(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """The SOC hierarchy as OEWS publishes it, with aggregate and broad-as-detailed flags."""
    with warehouse.get_connection() as con:
        return build(context, con, "stg_oews__occupations", [partition_release(context)])


# ---- code lists ------------------------------------------------------------------------------
@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"}, deps=["raw_naics__codes"])
def stg_naics__codes(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """NAICS 2022: 2,125 codes from sectors to 6-digit industries."""
    with warehouse.get_connection() as con:
        return build(context, con, "stg_naics__codes", [], per_release=False)


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"}, deps=["raw_soc__codes"])
def stg_soc__codes(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """SOC 2018: major, minor, broad and detailed occupation codes with their parents."""
    with warehouse.get_connection() as con:
        return build(context, con, "stg_soc__codes", [], per_release=False)


# ---- projections and skills ----------------------------------------------------------------
@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"}, deps=["raw_ep__occupations"])
def stg_ep__occupations(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """BLS Employment Projections by occupation: typical entry education, experience and
    training, 10-year employment change and annual openings (empty when EP is unavailable)."""
    with warehouse.get_connection() as con:
        return build(
            context,
            con,
            "stg_ep__occupations",
            [],
            per_release=False,
            before_commit=functools.partial(record_staged_source, source="ep"),
        )


@asset(
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=["raw_onet__job_zones", "raw_oews__soc_alignment", "stg_oews__occupations"],
)
def stg_onet__job_zones(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """O*NET Job Zones rolled up to OEWS occupation codes (the .00 code, else the median of
    the specialisations; OEWS aggregates from their SOC components). CC BY 4.0, modified."""
    with warehouse.get_connection() as con:
        zones = query_frame(con, "SELECT * FROM raw_onet__job_zones")
        codes = query_frame(
            con,
            "SELECT DISTINCT soc_code FROM stg_oews__occupations WHERE is_detailed ORDER BY 1",
        )["soc_code"].to_list()
        alignment = alignment_map(
            fetch_all(
                con, "SELECT oews_soc_code, soc_code FROM raw_oews__soc_alignment ORDER BY ALL"
            )
        )
        release = zones["onet_release"][0] if zones.height else None
        rolled = job_zones_by_soc(zones.drop("onet_release"), codes, alignment).with_columns(
            pl.lit(release, pl.String).alias("onet_release")
        )
        if zones.height == 0:
            rolled = rolled.clear()
        write_frame(
            con,
            "stg_onet__job_zones",
            rolled,
            **enforce_contract("stg_onet__job_zones"),
            before_commit=functools.partial(record_staged_source, source="onet"),
        )
        meta = table_metadata(con, "stg_onet__job_zones")
    if release:
        meta["attribution"] = attribution(release)
        meta["coverage"] = f"{rolled['job_zone'].is_not_null().sum()} of {len(codes)} occupations"
    return MaterializeResult(metadata=meta)


_CHECKS = [
    *(
        contract_check(t)
        for t in (
            "stg_oews__estimates",
            "stg_oews__files",
            "stg_oews__release",
            "stg_oews__areas",
            "stg_oews__industries",
            "stg_oews__occupations",
            "stg_naics__codes",
            "stg_soc__codes",
        )
    ),
    *OEWS_TRAP_CHECKS,
]

CHECKS = asset_checks(_CHECKS)

ASSETS = [
    stg_ep__occupations,
    stg_onet__job_zones,
    stg_oews__estimates,
    stg_oews__release,
    stg_oews__areas,
    stg_oews__industries,
    stg_oews__occupations,
    stg_naics__codes,
    stg_soc__codes,
]
