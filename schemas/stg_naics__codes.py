"""Contract of stg_naics__codes: the NAICS 2022 code list (sectors to 6-digit industries)."""

import pandera.polars as pa
import polars as pl


class StgNaicsCodes(pa.DataFrameModel):
    naics_code: str = pa.Field(str_matches=r"^(\d{2}|\d{2}-\d{2}|\d{3,6})$", unique=True)
    naics_title: str = pa.Field(str_length={"min_value": 1})
    naics_level: pl.Int8 = pa.Field(ge=2, le=6)
    naics_sector_code: str = pa.Field(str_matches=r"^(\d{2}|\d{2}-\d{2})$")
    source: str

    class Config:
        strict = True
