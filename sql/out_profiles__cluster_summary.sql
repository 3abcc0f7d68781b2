-- out_profiles__cluster_summary: headline figures of each Career Cluster's industry profile,
-- national, for one release. Totals are given three ways because occupations can sit in several
-- clusters:
--   *_employment_count            every qualifying occupation of the cluster (duplicated: an
--                                 occupation in two clusters counts in both);
--   *_exclusive_employment_count  occupations in this cluster only;
--   *_shared_employment_count     occupations also in other clusters;
--   *_primary_employment_count    occupations whose primary cluster this is (non-duplicated:
--                                 these add up across clusters to the national total).
-- Wages say which statistic they are: the mean annual wage of the qualifying jobs is exact (an
-- employment-weighted average of occupation means is the mean of all those jobs); an
-- employment-weighted average of occupation MEDIANS is not a median, so it is named as what it
-- is, next to the plain median of the occupation medians. $1 release code.
WITH assigned AS (
  SELECT release_code, occupation_code, soc_code, cluster_code, bool_or(is_primary) AS is_primary
  FROM out_clusters__occupation_cluster
  WHERE release_code = $1
  GROUP BY ALL
), spread AS (
  SELECT occupation_code, count(*) AS cluster_count FROM assigned GROUP BY 1
), national AS (
  SELECT q.occupation_code, q.status, q.skill_tier, q.employment_count,
         e.wage_annual_mean_usd, e.wage_hourly_median_usd, e.wage_annual_median_usd
  FROM out_qualify__occupation_qualification AS q
  LEFT JOIN stg_oews__estimates AS e
    ON e.release_code = q.release_code AND e.occupation_code = q.occupation_code
   AND e.area_code = '0000000' AND e.industry_code = '000000'
  WHERE q.release_code = $1 AND q.area_type = 'national'
), ep AS (
  SELECT soc_code, openings_annual_thousands, employment_change_pct
  FROM stg_ep__occupations WHERE occupation_type = 'Line item'
), rows AS (
  SELECT a.*, s.cluster_count, n.*, ep.openings_annual_thousands,
         n.status = 'qualifies' AS q,
         -- Exact decimals (BLS publishes cents and tenths): sums of doubles depend on the
         -- order threads add them in, and the same inputs must give the same bytes.
         CAST(n.wage_annual_mean_usd AS DECIMAL(18, 2)) AS wage_annual_mean_exact_usd,
         CAST(n.wage_hourly_median_usd AS DECIMAL(18, 2)) AS wage_hourly_median_exact_usd,
         CAST(n.wage_annual_median_usd AS DECIMAL(18, 2)) AS wage_annual_median_exact_usd,
         CAST(ep.openings_annual_thousands AS DECIMAL(18, 3)) AS openings_annual_exact_thousands
  FROM assigned AS a
  JOIN spread AS s USING (occupation_code)
  JOIN national AS n USING (occupation_code)
  LEFT JOIN ep USING (soc_code)
)
SELECT
  $1 AS release_code,
  r.cluster_code,
  c.cluster_name,
  c.grouping_name,
  c.is_cross_cutting,
  count(*) AS assigned_occupation_count,
  CAST(count_if(q) AS BIGINT) AS qualifying_occupation_count,
  CAST(count_if(r.status = 'undetermined') AS BIGINT) AS undetermined_occupation_count,
  CAST(coalesce(sum(employment_count), 0) AS BIGINT) AS assigned_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q), 0) AS BIGINT)
    AS qualifying_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND cluster_count = 1), 0) AS BIGINT)
    AS qualifying_exclusive_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND cluster_count > 1), 0) AS BIGINT)
    AS qualifying_shared_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND is_primary), 0) AS BIGINT)
    AS qualifying_primary_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q), 0) AS DOUBLE)
    / nullif(sum(employment_count), 0) AS qualifying_employment_share,
  CAST(count_if(q AND skill_tier = 'high') AS BIGINT) AS qualifying_high_skill_occupation_count,
  CAST(count_if(q AND skill_tier = 'middle') AS BIGINT) AS qualifying_middle_skill_occupation_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND skill_tier = 'high'), 0) AS BIGINT)
    AS qualifying_high_skill_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND skill_tier = 'middle'), 0) AS BIGINT)
    AS qualifying_middle_skill_employment_count,
  CAST(sum(employment_count * wage_annual_mean_exact_usd)
    FILTER (WHERE q AND wage_annual_mean_usd IS NOT NULL) AS DOUBLE)
    / nullif(sum(employment_count) FILTER (WHERE q AND wage_annual_mean_usd IS NOT NULL), 0)
    AS qualifying_wage_annual_mean_usd,
  CAST(sum(employment_count * wage_hourly_median_exact_usd)
    FILTER (WHERE q AND wage_hourly_median_usd IS NOT NULL) AS DOUBLE)
    / nullif(sum(employment_count) FILTER (WHERE q AND wage_hourly_median_usd IS NOT NULL), 0)
    AS qualifying_wage_hourly_median_emp_weighted_avg_usd,
  quantile_cont(wage_hourly_median_usd, 0.5) FILTER (WHERE q)
    AS qualifying_wage_hourly_median_of_occupation_medians_usd,
  -- the same over annual medians, which BLS publishes also for the occupations paid by the
  -- year without an hourly wage (teachers): a cluster of those is described by this one
  CAST(sum(employment_count * wage_annual_median_exact_usd)
    FILTER (WHERE q AND wage_annual_median_usd IS NOT NULL) AS DOUBLE)
    / nullif(sum(employment_count) FILTER (WHERE q AND wage_annual_median_usd IS NOT NULL), 0)
    AS qualifying_wage_annual_median_emp_weighted_avg_usd,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND wage_annual_median_usd IS NOT NULL), 0)
    AS BIGINT) AS qualifying_wage_annual_median_covered_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND wage_annual_mean_usd IS NOT NULL), 0)
    AS BIGINT) AS qualifying_wage_mean_covered_employment_count,
  CAST(coalesce(sum(employment_count) FILTER (WHERE q AND wage_hourly_median_usd IS NOT NULL), 0)
    AS BIGINT) AS qualifying_wage_hourly_median_covered_employment_count,
  CAST(count_if(q AND wage_hourly_median_usd IS NULL) AS BIGINT)
    AS qualifying_without_hourly_median_occupation_count,
  CAST(sum(openings_annual_exact_thousands) FILTER (WHERE q) AS DOUBLE)
    AS qualifying_openings_annual_thousands,
  CAST(count_if(q AND openings_annual_thousands IS NOT NULL) AS BIGINT) AS qualifying_openings_occupation_count
FROM rows AS r
JOIN raw_framework__clusters AS c USING (cluster_code)
GROUP BY r.cluster_code, c.cluster_name, c.grouping_name, c.is_cross_cutting
