"""Contract of stg_ep__occupations: BLS Employment Projections Table 1.2 by occupation."""

import pandera.polars as pa
import polars as pl


class StgEpOccupations(pa.DataFrameModel):
    soc_code: str = pa.Field(str_matches=r"^\d{2}-\d{4}$", unique=True)
    ep_title: str = pa.Field(str_length={"min_value": 1})
    occupation_type: str = pa.Field(isin=["Line item", "Summary"])
    base_year: pl.Int16 = pa.Field(ge=2000, le=2100)
    projection_year: pl.Int16 = pa.Field(ge=2010, le=2110)
    employment_base_thousands: pl.Float64 = pa.Field(nullable=True, ge=0)
    employment_projected_thousands: pl.Float64 = pa.Field(nullable=True, ge=0)
    employment_change_thousands: pl.Float64 = pa.Field(nullable=True)
    employment_change_pct: pl.Float64 = pa.Field(nullable=True)
    self_employed_pct: pl.Float64 = pa.Field(nullable=True, ge=0, le=100)
    openings_annual_thousands: pl.Float64 = pa.Field(nullable=True, ge=0)
    median_wage_annual_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    is_median_wage_top_coded: bool
    typical_education: str = pa.Field(nullable=True)
    work_experience: str = pa.Field(nullable=True)
    typical_ojt: str = pa.Field(nullable=True)

    class Config:
        strict = True
