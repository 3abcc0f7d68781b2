"""Contract of stg_oews__occupations: the SOC hierarchy as OEWS publishes it."""

import pandera.polars as pa
import polars as pl

LEVELS = ["total", "major", "minor", "broad", "detailed"]
SOC = r"^\d{2}-\d{4}$"


class StgOewsOccupations(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=SOC)
    occupation_name: str = pa.Field(str_length={"min_value": 1})
    display_level: pl.Int8 = pa.Field(ge=0, le=3)
    soc_level: str = pa.Field(isin=LEVELS)
    major_code: str = pa.Field(nullable=True, str_matches=SOC)
    minor_code: str = pa.Field(nullable=True, str_matches=SOC)
    broad_code: str = pa.Field(nullable=True, str_matches=SOC)
    is_detailed: bool
    is_broad_as_detailed: bool
    is_oews_aggregate: bool

    class Config:
        strict = True
        unique = ["release_code", "occupation_code"]
