"""Contract of int_clusters__industry_evidence: for every detailed occupation and cluster, the
share of its national employment in the cluster's NAICS sectors, and where within them."""

import pandera.polars as pa
import polars as pl

from schemas.int_clusters__rule_matches import CLUSTER_CODE


class IntClustersIndustryEvidence(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    cluster_code: str = pa.Field(str_matches=CLUSTER_CODE)
    cluster_sector_employment_count: pl.Int64 = pa.Field(ge=0)
    # NULL where BLS published no sector cell (e.g. a release read from the national workbook)
    sector_employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    # BLS rounds each cell on its own, so a share may pass 1 by a rounding step
    industry_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    top_industry_code: str = pa.Field(nullable=True)
    top_industry_name: str = pa.Field(nullable=True)
    suppressed_sector_count: pl.Int64 = pa.Field(ge=0)
    counted_sectors: str
    top_subsector_code: str = pa.Field(nullable=True, str_matches=r"^\d{3}$")
    top_subsector_name: str = pa.Field(nullable=True)
    top_subsector_employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    is_top_subsector_decisive: bool
    top_industry_group_code: str = pa.Field(nullable=True, str_matches=r"^\d{4}$")
    top_industry_group_name: str = pa.Field(nullable=True)
    is_top_industry_group_decisive: bool

    class Config:
        strict = True
        unique = ["release_code", "occupation_code", "cluster_code"]
