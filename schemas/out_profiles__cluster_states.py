"""Contract of out_profiles__cluster_states: each cluster's qualifying employment by state."""

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData


class OutProfilesClusterStates(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    cluster_code: str
    area_code: str = pa.Field(str_matches=r"^\d{2}00000$")
    area_name: str
    state_code: str = pa.Field(str_matches=r"^\d{2}$")
    employment_count: pl.Int64 = pa.Field(ge=0)
    released_occupation_count: pl.Int64 = pa.Field(ge=0)
    suppressed_occupation_count: pl.Int64 = pa.Field(ge=0)
    total_employment_count: pl.Int64 = pa.Field(nullable=True, gt=0)
    employment_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    location_quotient: pl.Float64 = pa.Field(nullable=True, ge=0)

    class Config:
        strict = True
        unique = ["release_code", "cluster_code", "area_code"]

    @pa.dataframe_check
    @classmethod
    def within_state_total(cls, data: PolarsData) -> pl.LazyFrame:
        """A cluster can't employ more people in a state than the state's total employment."""
        return data.lazyframe.select(
            pl.col("total_employment_count").is_null()
            | (pl.col("employment_count") <= pl.col("total_employment_count"))
        )
