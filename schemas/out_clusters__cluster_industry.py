"""Contract of out_clusters__cluster_industry: where each cluster's qualifying occupations work."""

import pandera.polars as pa
import polars as pl


class OutClustersClusterIndustry(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    cluster_code: str = pa.Field(str_matches=r"^[a-z-]+$")
    sub_cluster_code: str = pa.Field(nullable=True, str_matches=r"^[a-z-]+/[a-z-]+$")
    industry_level: str = pa.Field(isin=["sector", "subsector"])
    industry_code: str
    industry_name: str
    naics_code: str = pa.Field(nullable=True)
    naics_sector_code: str = pa.Field(nullable=True)
    employment_count: pl.Int64 = pa.Field(ge=0)
    employment_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    # NULL only in rows an earlier version built (kept for other releases until rebuilt)
    share_base_employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    occupation_count: pl.Int64 = pa.Field(ge=0)
    suppressed_cell_count: pl.Int64 = pa.Field(ge=0)
    top_occupations: str = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["release_code", "cluster_code", "sub_cluster_code", "industry_code"]
