"""Contract of stg_onet__job_zones: O*NET Job Zones rolled up to OEWS occupation codes."""

import pandera.polars as pa
import polars as pl


class StgOnetJobZones(pa.DataFrameModel):
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$", unique=True)
    job_zone: pl.Int8 = pa.Field(nullable=True, ge=1, le=5)
    job_zone_rule: str = pa.Field(nullable=True)
    onet_codes: str = pa.Field(nullable=True)
    onet_release: str = pa.Field(nullable=True)

    class Config:
        strict = True
