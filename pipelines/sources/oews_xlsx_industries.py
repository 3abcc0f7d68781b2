"""OEWS industry history from BLS's annual national industry download (`oesmYYin4.zip`).

The zip holds `natsector_`, `nat3d_`, `nat4d_` and `nat5d_6d_MYYYY_dl.xlsx`, each with an
`_owner` variant. Only the four non-owner files are read (an owner file splits the same
industries by ownership: adding it would count jobs twice). Their rows have the national
workbook's 32 columns; this reader turns them into the time series' national-industry cells
(`OEUN0000000` + industry + occupation), through the same marker rules as the national
workbook, so the one SQL parser types them.

Industry codes: the workbooks write sectors as NAICS does (`11`, `31-33`), the time series
as `SS--EE` (EE = the next sector, exclusive: `11--12`, `31--34`) and Sector 99 as `99-100`;
other codes (`113000`, `3250A1`, `999101`) are the same in both.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

from pipelines.sources.files import FetchedFile, SourceError
from pipelines.sources.oews_xlsx import O_GROUP_LEVEL, check_columns, workbook_cells

INDUSTRY_WORKBOOK = re.compile(r"^nat(sector|3d|4d|5d_6d)_M(\d{4})_dl\.xlsx$")
# I_GROUP -> the time series' display_level for the industry (oe.industry)
I_GROUP_LEVEL = {"sector": "2", "3-digit": "3", "4-digit": "4", "5-digit": "5", "6-digit": "5"}
REMEDY = (
    "Use BLS's national industry download as published (https://www.bls.gov/oes/tables.htm, "
    "'All data' industry file, oesmYYin4.zip); the previous release's tables are unchanged."
)


def industry_workbooks_from(file: FetchedFile, cache_dir: Path) -> list[Path]:
    """The four non-owner industry workbooks of an oesmYYin4.zip, unpacked into the cache."""
    source = f"oews history ({file.name})"
    try:
        with zipfile.ZipFile(file.path) as archive:
            names = sorted(n for n in archive.namelist() if INDUSTRY_WORKBOOK.match(Path(n).name))
            if not names:
                raise SourceError(
                    source,
                    "the zip holds none of natsector_, nat3d_, nat4d_ or nat5d_6d_MYYYY_dl.xlsx "
                    f"(found {archive.namelist()[:8]})",
                    REMEDY,
                    url=file.url,
                )
            paths = []
            for name in names:
                target = cache_dir / "oews-history" / Path(name).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
                paths.append(target)
    except zipfile.BadZipFile as err:
        raise SourceError(source, f"corrupt zip: {err}", REMEDY, url=file.url) from None
    years = {INDUSTRY_WORKBOOK.match(p.name).group(2) for p in paths}  # type: ignore[union-attr]
    if len(years) != 1:
        raise SourceError(source, f"the workbooks are of several years {sorted(years)}", REMEDY)
    return paths


def oews_industry_code(naics: str) -> str | None:
    """The time series' industry code for a workbook's NAICS value (None when unknown)."""
    if re.fullmatch(r"\d{6}|\d{4}A\d", naics):
        return naics
    sector = re.fullmatch(r"(\d{2})(?:-(\d{2}))?", naics)
    if not sector:
        return None
    first, last = int(sector.group(1)), int(sector.group(2) or sector.group(1))
    return "99-100" if first == last == 99 else f"{first:02d}--{last + 1:02d}"


def read_industry_workbooks(paths: list[Path], year: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The industry code list and the national-industry cells of the given workbooks."""
    frames = []
    for path in paths:
        source = f"oews history ({path.name})"
        match = INDUSTRY_WORKBOOK.match(path.name)
        if not match or match.group(2) != year:
            raise SourceError(
                source, f"{path.name} is not an industry workbook of May {year}", REMEDY
            )
        try:  # the sheet is named after the file, in varying case; it is the first
            rows = pl.read_excel(path, sheet_id=1, infer_schema_length=0)
        except Exception as err:  # calamine reports broken files in many types
            raise SourceError(source, f"cannot read the workbook: {err}", REMEDY) from None
        check_columns(rows, source, REMEDY)
        frames.append(rows.with_columns(file_rank=pl.lit(len(frames))))
    rows = pl.concat(frames).filter((pl.col("AREA_TYPE") == "1") & (pl.col("NAICS") != "000000"))
    codes = {n: oews_industry_code(n.strip()) for n in rows["NAICS"].unique().to_list()}
    unknown = sorted(n for n, c in codes.items() if c is None)
    unknown_groups = set(rows["I_GROUP"].unique().to_list()) - set(I_GROUP_LEVEL)
    unknown_levels = set(rows["O_GROUP"].unique().to_list()) - set(O_GROUP_LEVEL)
    if unknown or unknown_groups or unknown_levels or rows.is_empty():
        raise SourceError(
            "oews history (industry workbooks)",
            "unexpected content: "
            + "; ".join(
                text
                for text, bad in (
                    (f"NAICS values {unknown[:10]}", unknown),
                    (f"I_GROUP values {sorted(unknown_groups)}", unknown_groups),
                    (f"O_GROUP values {sorted(unknown_levels)}", unknown_levels),
                    ("no national industry rows", rows.is_empty()),
                )
                if bad
            ),
            REMEDY,
        )
    rows = rows.with_columns(
        industry_code=pl.col("NAICS").replace_strict(codes),
        occupation_code=pl.col("OCC_CODE").str.replace("-", "", literal=True),
        level=pl.col("O_GROUP").replace_strict(O_GROUP_LEVEL),
        own_rank=pl.col("OWN_CODE").str.len_chars(),
    )
    # One row per industry x occupation, as in the time series: a broad code published as
    # detailed is kept once (detailed); an industry in two files is taken from the first file
    # (sector, 3-, 4-, 5/6-digit); of several ownerships the widest (1235 over 5).
    rows = rows.sort(
        ["industry_code", "occupation_code", "level", "file_rank", "own_rank"],
        descending=[False, False, True, False, True],
    ).unique(["industry_code", "occupation_code"], keep="first", maintain_order=True)
    industries = (
        rows.unique("industry_code", keep="first", maintain_order=True)
        .select(
            "industry_code",
            pl.col("NAICS_TITLE").alias("industry_name"),
            pl.col("I_GROUP").replace_strict(I_GROUP_LEVEL).alias("display_level"),
        )
        .sort("industry_code")
    )
    return industries, workbook_cells(rows)
