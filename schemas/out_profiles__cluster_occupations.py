"""Contract of out_profiles__cluster_occupations: each report's occupations table."""

import pandera.polars as pa
import polars as pl

_WAGE = {"nullable": True, "gt": 0}


class OutProfilesClusterOccupations(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    cluster_code: str
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    occupation_name: str
    sub_cluster_codes: str
    sub_cluster_names: str
    is_primary_cluster: bool
    cluster_count: pl.Int64 = pa.Field(ge=1, le=14)
    employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    wage_annual_p10_usd: pl.Float64 = pa.Field(**_WAGE)
    wage_annual_p25_usd: pl.Float64 = pa.Field(**_WAGE)
    wage_annual_median_usd: pl.Float64 = pa.Field(**_WAGE)
    wage_annual_p75_usd: pl.Float64 = pa.Field(**_WAGE)
    wage_annual_p90_usd: pl.Float64 = pa.Field(**_WAGE)
    wage_annual_mean_usd: pl.Float64 = pa.Field(**_WAGE)
    wage_hourly_median_usd: pl.Float64 = pa.Field(**_WAGE)
    has_top_coded_wage: bool
    typical_education: str = pa.Field(nullable=True)
    work_experience: str = pa.Field(nullable=True)
    typical_ojt: str = pa.Field(nullable=True)
    skill_tier: str = pa.Field(nullable=True, isin=["low", "middle", "high"])
    skill_tier_source: str = pa.Field(nullable=True, isin=["ep", "job_zone", "fallback"])
    living_wage_margin_usd: pl.Float64 = pa.Field(nullable=True)
    living_wage_margin_pct: pl.Float64 = pa.Field(nullable=True)
    wage_used_unit: str = pa.Field(nullable=True, isin=["hour", "year"])
    status: str = pa.Field(isin=["qualifies", "excluded", "undetermined"])
    qualification_reason: str
    assignment_layers: str
    assignment_methods: str
    assignment_evidence: str
    # its occupation_cluster industry_share: BLS rounds each cell, so it may pass 1 by a step
    cluster_industry_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1.0001)
    employment_change_pct: pl.Float64 = pa.Field(nullable=True)
    openings_annual_thousands: pl.Float64 = pa.Field(nullable=True, ge=0)

    class Config:
        strict = True
        unique = ["release_code", "cluster_code", "occupation_code"]
