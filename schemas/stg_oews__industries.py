"""Contract of stg_oews__industries: OEWS industry codes with their NAICS 2022 mapping."""

import pandera.polars as pa
import polars as pl

INDUSTRY_KINDS = [
    "cross_industry",
    "sector",
    "naics",
    "oews_aggregate",
    "ownership_variant",
    "government",
]


class StgOewsIndustries(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    industry_code: str = pa.Field(str_matches=r"^[0-9A-Z-]{6}$")
    industry_name: str = pa.Field(str_length={"min_value": 1})
    display_level: pl.Int8 = pa.Field(ge=0, le=5)
    industry_kind: str = pa.Field(isin=INDUSTRY_KINDS)
    naics_code: str = pa.Field(nullable=True, str_matches=r"^(\d{2}|\d{2}-\d{2}|\d{3,6})$")
    naics_level: pl.Int8 = pa.Field(nullable=True, ge=2, le=6)
    naics_parent_code: str = pa.Field(nullable=True, str_matches=r"^\d{2,5}$")
    naics_sector_code: str = pa.Field(nullable=True, str_matches=r"^(\d{2}|\d{2}-\d{2})$")
    is_oews_aggregate: bool
    is_ownership_variant: bool
    is_government_designation: bool

    class Config:
        strict = True
        unique = ["release_code", "industry_code"]
