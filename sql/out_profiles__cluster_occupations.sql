-- out_profiles__cluster_occupations: the occupations table of each Career Cluster report: every
-- occupation assigned to the cluster, qualifying or not, once per cluster (its sub-clusters
-- listed), with national employment and wage percentiles as BLS published them (NULL where BLS
-- shows '-' or a top-coded value), EP education/training and outlook where loaded, the skill tier,
-- the living-wage margin, the qualification status with its reason, and how it was assigned.
-- $1 release code.
WITH assigned AS (
  SELECT
    release_code, cluster_code, occupation_code,
    any_value(soc_code) AS soc_code,
    any_value(occupation_name) AS occupation_name,
    -- names in the order of their codes, so the n-th name is the n-th code's
    array_to_string(list_transform(list_sort(list_distinct(
      list({'code': sub_cluster_code, 'name': sub_cluster_name}))), lambda s: s.name), '; ')
      AS sub_cluster_names,
    string_agg(DISTINCT sub_cluster_code, '; ' ORDER BY sub_cluster_code) AS sub_cluster_codes,
    bool_or(is_primary) AS is_primary_cluster,
    string_agg(DISTINCT layer, '; ' ORDER BY layer) AS assignment_layers,
    string_agg(DISTINCT method, '; ' ORDER BY method) AS assignment_methods,
    string_agg(DISTINCT evidence, ' | ' ORDER BY evidence) AS assignment_evidence,
    max(industry_share) AS cluster_industry_share
  FROM out_clusters__occupation_cluster
  WHERE release_code = $1
  GROUP BY release_code, cluster_code, occupation_code
), spread AS (
  SELECT occupation_code, CAST(count(DISTINCT cluster_code) AS BIGINT) AS cluster_count
  FROM assigned GROUP BY 1
), ep AS (
  SELECT soc_code, employment_change_pct, openings_annual_thousands
  FROM stg_ep__occupations WHERE occupation_type = 'Line item'
)
SELECT
  a.release_code,
  a.cluster_code,
  a.occupation_code,
  a.soc_code,
  a.occupation_name,
  a.sub_cluster_codes,
  a.sub_cluster_names,
  a.is_primary_cluster,
  s.cluster_count,
  q.employment_count,
  e.wage_annual_p10_usd,
  e.wage_annual_p25_usd,
  e.wage_annual_median_usd,
  e.wage_annual_p75_usd,
  e.wage_annual_p90_usd,
  e.wage_annual_mean_usd,
  e.wage_hourly_median_usd,
  coalesce(e.has_top_coded_wage, false) AS has_top_coded_wage,
  t.typical_education,
  t.work_experience,
  t.typical_ojt,
  q.skill_tier,
  q.skill_tier_source,
  q.living_wage_margin_usd,
  q.living_wage_margin_pct,
  q.wage_used_unit,
  q.status,
  q.reason AS qualification_reason,
  a.assignment_layers,
  a.assignment_methods,
  a.assignment_evidence,
  a.cluster_industry_share,
  ep.employment_change_pct,
  ep.openings_annual_thousands
FROM assigned AS a
JOIN spread AS s USING (occupation_code)
JOIN out_qualify__occupation_qualification AS q
  ON q.release_code = a.release_code AND q.occupation_code = a.occupation_code
 AND q.area_type = 'national'
LEFT JOIN stg_oews__estimates AS e
  ON e.release_code = a.release_code AND e.occupation_code = a.occupation_code
 AND e.area_code = '0000000' AND e.industry_code = '000000'
LEFT JOIN int_qualify__skill_tiers AS t
  ON t.release_code = a.release_code AND t.occupation_code = a.occupation_code
LEFT JOIN ep ON ep.soc_code = a.soc_code
