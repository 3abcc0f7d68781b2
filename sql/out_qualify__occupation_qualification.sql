-- out_qualify__occupation_qualification: every OEWS detailed occupation x geography (the nation,
-- and each state and territory), screened for skill tier and living wage, with one status
-- (qualifies / excluded / undetermined) and a reason a reviewer can read.
-- Wages: the policy's statistic (median, or p25 as an "entry wage") from the cross-industry
-- estimate for that area. Occupations paid only annually (BLS footnote 4 on hourly wages:
-- teachers, pilots...) are compared on their annual wage with threshold x 2,080; others on their
-- hourly wage. A wage at or above BLS's top code (footnote 5) counts as that top code. A missing
-- or suppressed wage makes the status undetermined, never silently in or out; a low skill tier
-- excludes whatever the wage.
-- $1 release code, $2 national hourly threshold (USD), $3 national threshold label,
-- $4 wage statistic (median | p25), $5 sha256 of the policy the screen used (settings, skill
-- fallback rules, state living wages), so releases screened differently can be told apart.
WITH tiers AS (
  SELECT * FROM int_qualify__skill_tiers WHERE release_code = $1
), geo AS (
  SELECT area_code, area_name, area_type, state_code
  FROM stg_oews__areas
  WHERE release_code = $1 AND area_type IN ('national', 'state')
), release AS (
  SELECT top_code_hourly_usd, top_code_annual_usd FROM stg_oews__release WHERE release_code = $1
), est AS (
  SELECT
    area_code,
    occupation_code,
    employment_count,
    CASE WHEN $4 = 'p25' THEN wage_hourly_p25_usd ELSE wage_hourly_median_usd END AS hourly,
    CASE WHEN $4 = 'p25' THEN wage_annual_p25_usd ELSE wage_annual_median_usd END AS annual,
    CASE WHEN $4 = 'p25' THEN wage_hourly_p25_usd_footnote_codes
         ELSE wage_hourly_median_usd_footnote_codes END AS hourly_footnotes,
    CASE WHEN $4 = 'p25' THEN wage_annual_p25_usd_footnote_codes
         ELSE wage_annual_median_usd_footnote_codes END AS annual_footnotes,
    is_annual_only,
    is_hourly_only
  FROM stg_oews__estimates
  WHERE release_code = $1 AND industry_code = '000000'
), thresholds AS (
  SELECT
    geo.*,
    coalesce(s.hourly_usd, CAST($2 AS DOUBLE)) AS threshold_hourly_usd,
    CASE WHEN s.hourly_usd IS NULL THEN
      CAST($3 AS VARCHAR)
        || CASE WHEN geo.area_type = 'state' THEN ' (national threshold: no state figure given)'
                ELSE '' END
    ELSE format('${:.2f}/h ({}, {})', s.hourly_usd, s.source, s.year) END AS threshold_label
  FROM geo
  LEFT JOIN raw_policy__state_living_wages AS s ON s.state_code = geo.state_code
                                               AND geo.area_type = 'state'
), screened AS (
  SELECT
    tiers.release_code,
    t.area_code,
    t.area_name,
    t.area_type,
    tiers.occupation_code,
    tiers.soc_code,
    tiers.occupation_name,
    est.employment_count,
    tiers.skill_tier,
    tiers.skill_tier_source,
    tiers.skill_tier_reason,
    CASE
      WHEN est.hourly IS NOT NULL THEN 'hourly'
      WHEN contains(coalesce(est.hourly_footnotes, ''), '5') THEN 'hourly_top_coded'
      WHEN est.annual IS NOT NULL AND est.is_annual_only THEN 'annual'
      WHEN contains(coalesce(est.annual_footnotes, ''), '5') AND est.is_annual_only
        THEN 'annual_top_coded'
    END AS wage_basis,
    est.hourly,
    est.annual,
    est.hourly_footnotes,
    est.annual_footnotes,
    est.area_code IS NULL AS has_no_estimate,
    t.threshold_hourly_usd,
    t.threshold_label,
    release.top_code_hourly_usd,
    release.top_code_annual_usd
  FROM tiers
  CROSS JOIN thresholds AS t
  CROSS JOIN release
  LEFT JOIN est ON est.area_code = t.area_code AND est.occupation_code = tiers.occupation_code
), valued AS (
  SELECT
    *,
    CASE wage_basis
      WHEN 'hourly' THEN hourly
      WHEN 'hourly_top_coded' THEN top_code_hourly_usd
      WHEN 'annual' THEN annual
      WHEN 'annual_top_coded' THEN top_code_annual_usd
    END AS wage_used_usd,
    CASE WHEN wage_basis LIKE 'annual%' THEN 'year' WHEN wage_basis IS NOT NULL THEN 'hour'
    END AS wage_used_unit,
    CASE WHEN wage_basis LIKE 'annual%' THEN threshold_hourly_usd * 2080
         ELSE threshold_hourly_usd END AS threshold_used_usd
  FROM screened
)
SELECT
  release_code,
  area_code,
  area_name,
  area_type,
  occupation_code,
  soc_code,
  occupation_name,
  employment_count,
  skill_tier,
  skill_tier_source,
  CAST($4 AS VARCHAR) AS wage_statistic,
  wage_basis,
  wage_used_usd,
  wage_used_unit,
  threshold_hourly_usd,
  threshold_used_usd,
  threshold_label,
  -- in exact decimals (wages and thresholds are in cents or whole dollars): 31.02 - 25.00 is
  -- 6.02 and its margin 24.08 %, not binary floating point's 24.07999999999999
  CAST(CAST(wage_used_usd AS DECIMAL(18, 4)) - CAST(threshold_used_usd AS DECIMAL(18, 4))
       AS DOUBLE) AS living_wage_margin_usd,
  100 * (CAST(wage_used_usd AS DECIMAL(18, 4)) - CAST(threshold_used_usd AS DECIMAL(18, 4)))
    / CAST(threshold_used_usd AS DECIMAL(18, 4)) AS living_wage_margin_pct,
  wage_basis LIKE '%top_coded' AS is_wage_top_coded,
  CASE
    WHEN skill_tier = 'low' THEN 'excluded'
    WHEN wage_used_usd IS NULL THEN 'undetermined'
    WHEN wage_used_usd >= threshold_used_usd THEN 'qualifies'
    ELSE 'excluded'
  END AS status,
  CASE
    WHEN skill_tier = 'low' THEN 'excluded: ' || skill_tier_reason
    WHEN wage_used_usd IS NULL THEN 'undetermined: ' || CASE
      WHEN has_no_estimate THEN 'BLS published no estimate for this occupation in ' || area_name
      WHEN contains(coalesce(hourly_footnotes, '') || coalesce(annual_footnotes, ''), '8')
        THEN 'the ' || $4 || ' wage was not released by BLS (footnote 8)'
      ELSE 'no ' || $4 || ' wage published'
    END || '; ' || skill_tier_reason
    ELSE
      CASE WHEN wage_used_usd >= threshold_used_usd THEN 'qualifies: ' ELSE 'excluded: ' END
      || CASE wage_used_unit
           WHEN 'hour' THEN format('{} hourly wage ${:.2f}', $4, wage_used_usd)
           ELSE format('{} annual wage ${:,.0f} (paid annually only; threshold x 2,080 = ${:,.0f})',
                       $4, wage_used_usd, threshold_used_usd)
         END
      || CASE WHEN wage_basis LIKE '%top_coded' THEN ' or more (BLS top code)' ELSE '' END
      || CASE WHEN wage_used_usd >= threshold_used_usd THEN ' meets ' ELSE ' is below ' END
      || 'the living wage ' || threshold_label || '; ' || skill_tier_reason
  END AS reason,
  CAST($5 AS VARCHAR) AS policy_sha256
FROM valued
