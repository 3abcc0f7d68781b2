"""Contract of out_qualify__occupation_qualification: occupation x geography screen results."""

import pandera.polars as pa
import polars as pl


class OutQualifyOccupationQualification(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    area_code: str = pa.Field(str_matches=r"^\d{7}$")
    area_name: str
    area_type: str = pa.Field(isin=["national", "state"])
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$")
    occupation_name: str
    employment_count: pl.Int64 = pa.Field(nullable=True, ge=0)
    skill_tier: str = pa.Field(isin=["low", "middle", "high"])
    skill_tier_source: str = pa.Field(isin=["ep", "job_zone", "fallback"])
    wage_statistic: str = pa.Field(isin=["median", "p25"])
    wage_basis: str = pa.Field(
        nullable=True, isin=["hourly", "hourly_top_coded", "annual", "annual_top_coded"]
    )
    wage_used_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    wage_used_unit: str = pa.Field(nullable=True, isin=["hour", "year"])
    threshold_hourly_usd: pl.Float64 = pa.Field(gt=0)
    threshold_used_usd: pl.Float64 = pa.Field(gt=0)
    threshold_label: str
    living_wage_margin_usd: pl.Float64 = pa.Field(nullable=True)
    living_wage_margin_pct: pl.Float64 = pa.Field(nullable=True)
    is_wage_top_coded: bool = pa.Field(nullable=True)
    status: str = pa.Field(isin=["qualifies", "excluded", "undetermined"])
    reason: str = pa.Field(str_length={"min_value": 10})
    policy_sha256: str = pa.Field(str_matches=r"^[0-9a-f]{64}$")

    class Config:
        strict = True
        unique = ["release_code", "area_code", "occupation_code"]
