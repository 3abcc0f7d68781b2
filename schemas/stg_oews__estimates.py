"""Contract of stg_oews__estimates: one row per (release, area, industry, occupation) cell.

The 17 OEWS measures are typed (employment as integer, wages in dollars); a published `-` is
NULL with its footnote codes kept beside it in `<measure>_footnote_codes`.
"""

import pandera.polars as pa
import polars as pl

# OEWS datatype code -> column. The order and names are checked against oe.datatype on load.
MEASURES: dict[str, str] = {
    "01": "employment_count",
    "02": "employment_rse_pct",
    "03": "wage_hourly_mean_usd",
    "04": "wage_annual_mean_usd",
    "05": "wage_rse_pct",
    "06": "wage_hourly_p10_usd",
    "07": "wage_hourly_p25_usd",
    "08": "wage_hourly_median_usd",
    "09": "wage_hourly_p75_usd",
    "10": "wage_hourly_p90_usd",
    "11": "wage_annual_p10_usd",
    "12": "wage_annual_p25_usd",
    "13": "wage_annual_median_usd",
    "14": "wage_annual_p75_usd",
    "15": "wage_annual_p90_usd",
    "16": "employment_per_1000_jobs",
    "17": "location_quotient",
}
# BLS's names for the datatype codes (oe.datatype); a shifted mapping fails this comparison.
DATATYPE_NAMES: dict[str, str] = {
    "01": "Employment",
    "02": "Employment percent relative standard error",
    "03": "Hourly mean wage",
    "04": "Annual mean wage",
    "05": "Wage percent relative standard error",
    "06": "Hourly 10th percentile wage",
    "07": "Hourly 25th percentile wage",
    "08": "Hourly median wage",
    "09": "Hourly 75th percentile wage",
    "10": "Hourly 90th percentile wage",
    "11": "Annual 10th percentile wage",
    "12": "Annual 25th percentile wage",
    "13": "Annual median wage",
    "14": "Annual 75th percentile wage",
    "15": "Annual 90th percentile wage",
    "16": "Employment per 1,000 jobs",
    "17": "Location Quotient",
}
# Hourly and annual columns that describe the same statistic (annual = hourly x 2,080).
WAGE_PAIRS: list[tuple[str, str]] = [
    ("wage_hourly_mean_usd", "wage_annual_mean_usd"),
    ("wage_hourly_p10_usd", "wage_annual_p10_usd"),
    ("wage_hourly_p25_usd", "wage_annual_p25_usd"),
    ("wage_hourly_median_usd", "wage_annual_median_usd"),
    ("wage_hourly_p75_usd", "wage_annual_p75_usd"),
    ("wage_hourly_p90_usd", "wage_annual_p90_usd"),
]
FOOTNOTES = r"^\d+(,\d+)*$"


def _measure(nonneg: bool = True) -> pa.Field:
    return pa.Field(nullable=True, ge=0) if nonneg else pa.Field(nullable=True)


class StgOewsEstimates(pa.DataFrameModel):
    release_code: str = pa.Field(str_matches=r"^\d{4}A\d{2}$")
    area_code: str = pa.Field(str_matches=r"^\d{7}$")
    industry_code: str = pa.Field(str_matches=r"^[0-9A-Z-]{6}$")
    occupation_code: str = pa.Field(str_matches=r"^\d{6}$")
    areatype_code: str = pa.Field(isin=["N", "S", "M"])
    employment_count: pl.Int64 = _measure()
    employment_rse_pct: pl.Float64 = _measure()
    wage_hourly_mean_usd: pl.Float64 = _measure()
    wage_annual_mean_usd: pl.Float64 = _measure()
    wage_rse_pct: pl.Float64 = _measure()
    wage_hourly_p10_usd: pl.Float64 = _measure()
    wage_hourly_p25_usd: pl.Float64 = _measure()
    wage_hourly_median_usd: pl.Float64 = _measure()
    wage_hourly_p75_usd: pl.Float64 = _measure()
    wage_hourly_p90_usd: pl.Float64 = _measure()
    wage_annual_p10_usd: pl.Float64 = _measure()
    wage_annual_p25_usd: pl.Float64 = _measure()
    wage_annual_median_usd: pl.Float64 = _measure()
    wage_annual_p75_usd: pl.Float64 = _measure()
    wage_annual_p90_usd: pl.Float64 = _measure()
    employment_per_1000_jobs: pl.Float64 = _measure()
    location_quotient: pl.Float64 = _measure()
    employment_count_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    employment_rse_pct_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_hourly_mean_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_annual_mean_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_rse_pct_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_hourly_p10_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_hourly_p25_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_hourly_median_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_hourly_p75_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_hourly_p90_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_annual_p10_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_annual_p25_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_annual_median_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_annual_p75_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    wage_annual_p90_usd_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    employment_per_1000_jobs_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    location_quotient_footnote_codes: str = pa.Field(nullable=True, str_matches=FOOTNOTES)
    is_hourly_only: bool
    is_annual_only: bool
    has_top_coded_wage: bool
    has_unreleased_value: bool

    class Config:
        strict = True
        unique = ["release_code", "area_code", "industry_code", "occupation_code"]
