"""Contract of stg_oews__release: one row per OEWS release in the warehouse."""

import pandera.polars as pa
import polars as pl


class StgOewsRelease(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$", unique=True)
    release_name: str = pa.Field(str_matches=r"^[A-Z][a-z]+ \d{4}$")
    data_year: pl.Int32 = pa.Field(ge=1997, le=2100)
    period: str = pa.Field(str_matches=r"^A\d{2}$")
    source_mode: str = pa.Field(isin=["embedded", "live", "local", "xlsx"])
    source_label: str
    top_code_hourly_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    top_code_annual_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    cell_count: pl.Int64 = pa.Field(gt=0)
    value_count: pl.Int64 = pa.Field(gt=0)
    dash_count: pl.Int64 = pa.Field(ge=0)
    ingested_at: str

    class Config:
        strict = True
