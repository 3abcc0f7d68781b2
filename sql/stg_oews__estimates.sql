-- stg_oews__estimates: one row per OEWS estimate cell (release, area, industry, occupation)
-- with the 17 published measures typed. Reads src_oews__cells, the text-level cells that the
-- embedded snapshot and the BLS flat files both produce, so both paths share this one parser.
-- A published '-' becomes NULL and keeps its footnote codes in <measure>_footnote_codes;
-- the is_/has_ flags summarise footnotes 4 (hourly- or annual-only), 5 (at or above the top
-- code) and 8 (not released). $1 is the release code.
-- The check_* columns are for the loader, which checks and drops them before the contract is
-- validated: per cell, values that are neither '-' nor a number its column holds unchanged
-- (a whole number for employment, none too large for its type), the counts of values, dashes
-- and dashes without a footnote, the footnote codes used; and, passed through unchanged, any
-- further column of the source (the flat-file pivot's counts of long-layout problems). They
-- are computed here so the 6-million-row file is read once.
SELECT
  $1 AS release_code,
  substr(cell_key, 5, 7) AS area_code,
  substr(cell_key, 12, 6) AS industry_code,
  substr(cell_key, 18, 6) AS occupation_code,
  substr(cell_key, 4, 1) AS areatype_code,
  n01 AS employment_count,
  n02 AS employment_rse_pct,
  n03 AS wage_hourly_mean_usd,
  n04 AS wage_annual_mean_usd,
  n05 AS wage_rse_pct,
  n06 AS wage_hourly_p10_usd,
  n07 AS wage_hourly_p25_usd,
  n08 AS wage_hourly_median_usd,
  n09 AS wage_hourly_p75_usd,
  n10 AS wage_hourly_p90_usd,
  n11 AS wage_annual_p10_usd,
  n12 AS wage_annual_p25_usd,
  n13 AS wage_annual_median_usd,
  n14 AS wage_annual_p75_usd,
  n15 AS wage_annual_p90_usd,
  n16 AS employment_per_1000_jobs,
  n17 AS location_quotient,
  f01 AS employment_count_footnote_codes,
  f02 AS employment_rse_pct_footnote_codes,
  f03 AS wage_hourly_mean_usd_footnote_codes,
  f04 AS wage_annual_mean_usd_footnote_codes,
  f05 AS wage_rse_pct_footnote_codes,
  f06 AS wage_hourly_p10_usd_footnote_codes,
  f07 AS wage_hourly_p25_usd_footnote_codes,
  f08 AS wage_hourly_median_usd_footnote_codes,
  f09 AS wage_hourly_p75_usd_footnote_codes,
  f10 AS wage_hourly_p90_usd_footnote_codes,
  f11 AS wage_annual_p10_usd_footnote_codes,
  f12 AS wage_annual_p25_usd_footnote_codes,
  f13 AS wage_annual_median_usd_footnote_codes,
  f14 AS wage_annual_p75_usd_footnote_codes,
  f15 AS wage_annual_p90_usd_footnote_codes,
  f16 AS employment_per_1000_jobs_footnote_codes,
  f17 AS location_quotient_footnote_codes,
  contains(',' || concat_ws(',', f04, f11, f12, f13, f14, f15) || ',', ',4,') AS is_hourly_only,
  contains(',' || concat_ws(',', f03, f06, f07, f08, f09, f10) || ',', ',4,') AS is_annual_only,
  contains(all_codes, ',5,') AS has_top_coded_wage,
  contains(all_codes, ',8,') AS has_unreleased_value,
  -- A value is bad unless it is '-' or a plain decimal number its column holds: one regex
  -- match per cell (`joined_values` puts each value after a NUL byte; NULLs, i.e. no such
  -- measure, drop out); then every value must have typed to a finite number (not one too large
  -- for its type, which TRY_CAST turns into NULL or infinity, nor one with a NUL inside); and
  -- an employment count must be a whole number (a cast to BIGINT would round it).
  coalesce(
    NOT regexp_full_match(joined_values, '(\x00(-|[0-9]+(\.[0-9]+)?))*')
      OR contains(v01, '.')
      OR (v01 <> '-' AND NOT coalesce(isfinite(n01), false))
      OR (v02 <> '-' AND NOT coalesce(isfinite(n02), false))
      OR (v03 <> '-' AND NOT coalesce(isfinite(n03), false))
      OR (v04 <> '-' AND NOT coalesce(isfinite(n04), false))
      OR (v05 <> '-' AND NOT coalesce(isfinite(n05), false))
      OR (v06 <> '-' AND NOT coalesce(isfinite(n06), false))
      OR (v07 <> '-' AND NOT coalesce(isfinite(n07), false))
      OR (v08 <> '-' AND NOT coalesce(isfinite(n08), false))
      OR (v09 <> '-' AND NOT coalesce(isfinite(n09), false))
      OR (v10 <> '-' AND NOT coalesce(isfinite(n10), false))
      OR (v11 <> '-' AND NOT coalesce(isfinite(n11), false))
      OR (v12 <> '-' AND NOT coalesce(isfinite(n12), false))
      OR (v13 <> '-' AND NOT coalesce(isfinite(n13), false))
      OR (v14 <> '-' AND NOT coalesce(isfinite(n14), false))
      OR (v15 <> '-' AND NOT coalesce(isfinite(n15), false))
      OR (v16 <> '-' AND NOT coalesce(isfinite(n16), false))
      OR (v17 <> '-' AND NOT coalesce(isfinite(n17), false)),
    false
  ) AS check_has_bad_value,
  (v01 IS NOT NULL)::INTEGER + (v02 IS NOT NULL)::INTEGER + (v03 IS NOT NULL)::INTEGER +
    (v04 IS NOT NULL)::INTEGER + (v05 IS NOT NULL)::INTEGER + (v06 IS NOT NULL)::INTEGER +
    (v07 IS NOT NULL)::INTEGER + (v08 IS NOT NULL)::INTEGER + (v09 IS NOT NULL)::INTEGER +
    (v10 IS NOT NULL)::INTEGER + (v11 IS NOT NULL)::INTEGER + (v12 IS NOT NULL)::INTEGER +
    (v13 IS NOT NULL)::INTEGER + (v14 IS NOT NULL)::INTEGER + (v15 IS NOT NULL)::INTEGER +
    (v16 IS NOT NULL)::INTEGER + (v17 IS NOT NULL)::INTEGER
    AS check_value_count,
  (coalesce(v01, '') = '-')::INTEGER + (coalesce(v02, '') = '-')::INTEGER +
    (coalesce(v03, '') = '-')::INTEGER + (coalesce(v04, '') = '-')::INTEGER +
    (coalesce(v05, '') = '-')::INTEGER + (coalesce(v06, '') = '-')::INTEGER +
    (coalesce(v07, '') = '-')::INTEGER + (coalesce(v08, '') = '-')::INTEGER +
    (coalesce(v09, '') = '-')::INTEGER + (coalesce(v10, '') = '-')::INTEGER +
    (coalesce(v11, '') = '-')::INTEGER + (coalesce(v12, '') = '-')::INTEGER +
    (coalesce(v13, '') = '-')::INTEGER + (coalesce(v14, '') = '-')::INTEGER +
    (coalesce(v15, '') = '-')::INTEGER + (coalesce(v16, '') = '-')::INTEGER +
    (coalesce(v17, '') = '-')::INTEGER
    AS check_dash_count,
  (coalesce(v01, '') = '-' AND f01 IS NULL)::INTEGER +
    (coalesce(v02, '') = '-' AND f02 IS NULL)::INTEGER +
    (coalesce(v03, '') = '-' AND f03 IS NULL)::INTEGER +
    (coalesce(v04, '') = '-' AND f04 IS NULL)::INTEGER +
    (coalesce(v05, '') = '-' AND f05 IS NULL)::INTEGER +
    (coalesce(v06, '') = '-' AND f06 IS NULL)::INTEGER +
    (coalesce(v07, '') = '-' AND f07 IS NULL)::INTEGER +
    (coalesce(v08, '') = '-' AND f08 IS NULL)::INTEGER +
    (coalesce(v09, '') = '-' AND f09 IS NULL)::INTEGER +
    (coalesce(v10, '') = '-' AND f10 IS NULL)::INTEGER +
    (coalesce(v11, '') = '-' AND f11 IS NULL)::INTEGER +
    (coalesce(v12, '') = '-' AND f12 IS NULL)::INTEGER +
    (coalesce(v13, '') = '-' AND f13 IS NULL)::INTEGER +
    (coalesce(v14, '') = '-' AND f14 IS NULL)::INTEGER +
    (coalesce(v15, '') = '-' AND f15 IS NULL)::INTEGER +
    (coalesce(v16, '') = '-' AND f16 IS NULL)::INTEGER +
    (coalesce(v17, '') = '-' AND f17 IS NULL)::INTEGER
    AS check_bare_dash_count,
  nullif(codes, '') AS check_footnote_codes,
  * EXCLUDE (
    cell_key,
    v01, v02, v03, v04, v05, v06, v07, v08, v09, v10, v11, v12, v13, v14, v15, v16, v17,
    f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, f13, f14, f15, f16, f17,
    n01, n02, n03, n04, n05, n06, n07, n08, n09, n10, n11, n12, n13, n14, n15, n16, n17,
    codes, all_codes, joined_values
  )
FROM (
  SELECT *, ',' || codes || ',' AS all_codes
  FROM (
    SELECT
      *,
      TRY_CAST(nullif(v01, '-') AS BIGINT) AS n01,
      TRY_CAST(nullif(v02, '-') AS DOUBLE) AS n02,
      TRY_CAST(nullif(v03, '-') AS DOUBLE) AS n03,
      TRY_CAST(nullif(v04, '-') AS DOUBLE) AS n04,
      TRY_CAST(nullif(v05, '-') AS DOUBLE) AS n05,
      TRY_CAST(nullif(v06, '-') AS DOUBLE) AS n06,
      TRY_CAST(nullif(v07, '-') AS DOUBLE) AS n07,
      TRY_CAST(nullif(v08, '-') AS DOUBLE) AS n08,
      TRY_CAST(nullif(v09, '-') AS DOUBLE) AS n09,
      TRY_CAST(nullif(v10, '-') AS DOUBLE) AS n10,
      TRY_CAST(nullif(v11, '-') AS DOUBLE) AS n11,
      TRY_CAST(nullif(v12, '-') AS DOUBLE) AS n12,
      TRY_CAST(nullif(v13, '-') AS DOUBLE) AS n13,
      TRY_CAST(nullif(v14, '-') AS DOUBLE) AS n14,
      TRY_CAST(nullif(v15, '-') AS DOUBLE) AS n15,
      TRY_CAST(nullif(v16, '-') AS DOUBLE) AS n16,
      TRY_CAST(nullif(v17, '-') AS DOUBLE) AS n17,
      concat_ws(',', f01, f02, f03, f04, f05, f06, f07, f08, f09,
        f10, f11, f12, f13, f14, f15, f16, f17) AS codes,
      concat_ws(chr(0), '', v01, v02, v03, v04, v05, v06, v07, v08, v09,
        v10, v11, v12, v13, v14, v15, v16, v17) AS joined_values
    FROM src_oews__cells
  )
)
