"""Contract of stg_soc__codes: the SOC 2018 hierarchy (major, minor, broad, detailed)."""

import pandera.polars as pa

SOC = r"^\d{2}-\d{4}$"


class StgSocCodes(pa.DataFrameModel):
    soc_code: str = pa.Field(str_matches=SOC, unique=True)
    soc_title: str = pa.Field(str_length={"min_value": 1})
    soc_level: str = pa.Field(isin=["major", "minor", "broad", "detailed"])
    major_code: str = pa.Field(nullable=True, str_matches=SOC)
    minor_code: str = pa.Field(nullable=True, str_matches=SOC)
    broad_code: str = pa.Field(nullable=True, str_matches=SOC)
    is_broad_as_detailed: bool
    source: str

    class Config:
        strict = True
