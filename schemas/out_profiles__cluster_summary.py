"""Contract of out_profiles__cluster_summary: headline figures per Career Cluster."""

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData


def _count() -> pa.Field:
    return pa.Field(ge=0)


class OutProfilesClusterSummary(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    cluster_code: str
    cluster_name: str
    grouping_name: str
    is_cross_cutting: bool
    assigned_occupation_count: pl.Int64 = pa.Field(gt=0)
    qualifying_occupation_count: pl.Int64 = _count()
    undetermined_occupation_count: pl.Int64 = _count()
    assigned_employment_count: pl.Int64 = _count()
    qualifying_employment_count: pl.Int64 = _count()
    qualifying_exclusive_employment_count: pl.Int64 = _count()
    qualifying_shared_employment_count: pl.Int64 = _count()
    qualifying_primary_employment_count: pl.Int64 = _count()
    qualifying_employment_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    qualifying_high_skill_occupation_count: pl.Int64 = _count()
    qualifying_middle_skill_occupation_count: pl.Int64 = _count()
    qualifying_high_skill_employment_count: pl.Int64 = _count()
    qualifying_middle_skill_employment_count: pl.Int64 = _count()
    qualifying_wage_annual_mean_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    qualifying_wage_hourly_median_emp_weighted_avg_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    qualifying_wage_hourly_median_of_occupation_medians_usd: pl.Float64 = pa.Field(
        nullable=True, gt=0
    )
    qualifying_wage_annual_median_emp_weighted_avg_usd: pl.Float64 = pa.Field(nullable=True, gt=0)
    qualifying_wage_annual_median_covered_employment_count: pl.Int64 = _count()
    qualifying_wage_mean_covered_employment_count: pl.Int64 = _count()
    qualifying_wage_hourly_median_covered_employment_count: pl.Int64 = _count()
    qualifying_without_hourly_median_occupation_count: pl.Int64 = _count()
    qualifying_openings_annual_thousands: pl.Float64 = pa.Field(nullable=True, ge=0)
    qualifying_openings_occupation_count: pl.Int64 = _count()

    class Config:
        strict = True
        unique = ["release_code", "cluster_code"]

    @pa.dataframe_check
    @classmethod
    def parts_add_up(cls, data: PolarsData) -> pl.LazyFrame:
        """Exclusive + shared = all qualifying employment; qualifying <= assigned."""
        return data.lazyframe.select(
            (
                pl.col("qualifying_exclusive_employment_count")
                + pl.col("qualifying_shared_employment_count")
                == pl.col("qualifying_employment_count")
            )
            & (pl.col("qualifying_employment_count") <= pl.col("assigned_employment_count"))
        )
