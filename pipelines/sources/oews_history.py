"""One earlier OEWS release from BLS's annual workbooks: the national workbook, plus the national
industry workbooks when given; both land in the shapes the other OEWS paths produce."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pipelines.sources.files import FetchedFile, SourceError
from pipelines.sources.oews_xlsx import WORKBOOK, read_recorded_workbook
from pipelines.sources.oews_xlsx_industries import INDUSTRY_WORKBOOK, read_industry_workbooks


def read_recorded_history(files: Sequence[FetchedFile]) -> tuple[dict, pl.DataFrame]:
    """Code lists and cells of the workbooks a history backfill parsed (the .xlsx files
    themselves: zips were unpacked and the workbooks recorded beside them)."""
    national = [f for f in files if WORKBOOK.match(f.name)]
    if len(national) != 1:
        raise SourceError(
            "oews history",
            f"expected one national workbook among {[f.name for f in files]}",
            "Point CCP_OEWS_XLSX_LOCAL_PATH at BLS's national_MYYYY_dl.xlsx or oesmYYnat.zip.",
        )
    frames, cells = read_recorded_workbook(national[0])
    by_industry = [f.path for f in files if INDUSTRY_WORKBOOK.match(f.name)]
    if by_industry:
        year = frames["release"]["release_code"][0][:4]
        industries, industry_cells = read_industry_workbooks(by_industry, year)
        frames["industry"] = pl.concat([frames["industry"], industries])
        cells = pl.concat([cells, industry_cells])
    return frames, cells
