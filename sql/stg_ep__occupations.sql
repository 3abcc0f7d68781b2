-- stg_ep__occupations: BLS Employment Projections Table 1.2, one row per matrix occupation
-- (line items and summary rows), as parsed by pipelines/sources/ep.py. Employment and openings
-- are in thousands, as BLS publishes them; EP includes the self-employed, so its employment is
-- larger than OEWS's. "None" is a category (no experience / no training needed), not missing.
SELECT
  soc_code,
  ep_title,
  occupation_type,
  base_year,
  projection_year,
  employment_base_thousands,
  employment_projected_thousands,
  employment_change_thousands,
  employment_change_pct,
  self_employed_pct,
  openings_annual_thousands,
  median_wage_annual_usd,
  is_median_wage_top_coded,
  typical_education,
  work_experience,
  typical_ojt
FROM raw_ep__occupations
