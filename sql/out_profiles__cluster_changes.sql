-- out_profiles__cluster_changes: what changed in each Career Cluster since the previous OEWS
-- release in the warehouse, occupation by occupation (national, all industries). A change of
-- status is a change in the data (a wage that crossed the threshold, a skill tier, an
-- unpublished wage, a SOC code that is new or no longer published) only when both releases were
-- screened under the same policy: each release is screened when its partition is materialized,
-- so after a policy change is_policy_changed says the previous release must be re-materialized
-- before its statuses compare like with like. A skill tier set by another source in each
-- release (EP or O*NET loaded for one of them only) is flagged and named in the reason.
-- Occupations are those the cluster holds now; a code published only in the previous release
-- appears under each cluster that held it then (so that cluster's report says where its jobs
-- went), or once with no cluster if none did.
-- $1 current release, $2 previous release (no rows when there is none).
WITH current_assignment AS (
  SELECT DISTINCT cluster_code, occupation_code, soc_code, occupation_name
  FROM out_clusters__occupation_cluster WHERE release_code = $1
), screened AS (
  SELECT release_code, occupation_code, soc_code, occupation_name, employment_count,
         skill_tier, skill_tier_source, wage_used_usd, wage_used_unit, threshold_used_usd, status,
         policy_sha256
  FROM out_qualify__occupation_qualification
  WHERE area_type = 'national' AND release_code IN ($1, $2)
), medians AS (
  SELECT release_code, occupation_code, wage_annual_median_usd
  FROM stg_oews__estimates
  WHERE area_code = '0000000' AND industry_code = '000000' AND release_code IN ($1, $2)
), paired AS (
  SELECT
    a.cluster_code, a.occupation_code, a.soc_code, a.occupation_name,
    p.employment_count AS previous_employment_count, c.employment_count,
    pm.wage_annual_median_usd AS previous_wage_annual_median_usd,
    cm.wage_annual_median_usd,
    p.status AS previous_status, c.status,
    p.skill_tier AS previous_skill_tier, c.skill_tier,
    p.skill_tier_source AS previous_skill_tier_source, c.skill_tier_source,
    p.wage_used_usd AS previous_wage_used_usd, c.wage_used_usd, c.wage_used_unit,
    c.threshold_used_usd, p.occupation_code IS NULL AS is_new_code
  FROM current_assignment AS a
  JOIN screened AS c ON c.release_code = $1 AND c.occupation_code = a.occupation_code
  LEFT JOIN screened AS p ON p.release_code = $2 AND p.occupation_code = a.occupation_code
  LEFT JOIN medians AS cm ON cm.release_code = $1 AND cm.occupation_code = a.occupation_code
  LEFT JOIN medians AS pm ON pm.release_code = $2 AND pm.occupation_code = a.occupation_code
), previous_assignment AS (
  SELECT DISTINCT cluster_code, occupation_code
  FROM out_clusters__occupation_cluster WHERE release_code = $2
), retired AS (
  SELECT
    pa.cluster_code, p.occupation_code, p.soc_code, p.occupation_name,
    p.employment_count AS previous_employment_count, CAST(NULL AS BIGINT) AS employment_count,
    pm.wage_annual_median_usd AS previous_wage_annual_median_usd,
    CAST(NULL AS DOUBLE) AS wage_annual_median_usd,
    p.status AS previous_status, CAST(NULL AS VARCHAR) AS status,
    p.skill_tier AS previous_skill_tier, CAST(NULL AS VARCHAR) AS skill_tier,
    p.skill_tier_source AS previous_skill_tier_source, CAST(NULL AS VARCHAR) AS skill_tier_source,
    p.wage_used_usd AS previous_wage_used_usd, CAST(NULL AS DOUBLE) AS wage_used_usd,
    p.wage_used_unit, p.threshold_used_usd, false AS is_new_code
  FROM screened AS p
  LEFT JOIN previous_assignment AS pa ON pa.occupation_code = p.occupation_code
  LEFT JOIN medians AS pm ON pm.release_code = $2 AND pm.occupation_code = p.occupation_code
  WHERE p.release_code = $2
    AND NOT EXISTS (SELECT 1 FROM screened AS c
                    WHERE c.release_code = $1 AND c.occupation_code = p.occupation_code)
), rows AS (
  SELECT * FROM paired UNION ALL SELECT * FROM retired
), tier_sources(code, label) AS (
  VALUES ('ep', 'BLS Employment Projections'), ('job_zone', 'O*NET Job Zone'),
         ('fallback', 'built-in rule')
), policies AS (
  SELECT count(DISTINCT policy_sha256) > 1 AS is_policy_changed FROM screened
)
SELECT
  CAST($1 AS VARCHAR) AS release_code,
  CAST($2 AS VARCHAR) AS previous_release_code,
  cluster_code, occupation_code, soc_code, occupation_name,
  previous_employment_count, employment_count,
  employment_count - previous_employment_count AS employment_change_count,
  previous_wage_annual_median_usd, wage_annual_median_usd,
  previous_status, status,
  CASE
    WHEN status IS NULL THEN 'code no longer published'
    WHEN is_new_code THEN 'new code'
    WHEN previous_status <> 'qualifies' AND status = 'qualifies' THEN 'newly qualifies'
    WHEN previous_status = 'qualifies' AND status <> 'qualifies' THEN 'stops qualifying'
    WHEN status = 'qualifies' THEN 'still qualifies'
    ELSE 'still does not qualify'
  END AS change_kind,
  CASE
    WHEN is_policy_changed AND previous_status IS DISTINCT FROM status
         AND status IS NOT NULL AND NOT is_new_code
      THEN 'not comparable: ' || $2 || ' was screened under a different policy (re-materialize '
           || $2 || ' to compare like with like)'
    WHEN status IS NULL THEN 'SOC code not in the ' || $1 || ' release (code change)'
    WHEN is_new_code THEN 'SOC code not in the ' || $2 || ' release (code change)'
    WHEN previous_status = status THEN NULL
    WHEN previous_skill_tier IS DISTINCT FROM skill_tier
      THEN 'skill tier ' || coalesce(previous_skill_tier, 'unknown') || ' → '
           || coalesce(skill_tier, 'unknown')
           -- a tier set by another source (EP loaded for one release only) is not the data's
           || CASE WHEN is_skill_tier_source_changed
                THEN format(' (tier from {} then, {} now)',
                  (SELECT label FROM tier_sources WHERE code = previous_skill_tier_source),
                  (SELECT label FROM tier_sources WHERE code = skill_tier_source))
                ELSE '' END
    WHEN previous_wage_used_usd IS NULL OR wage_used_usd IS NULL
      THEN 'wage ' || CASE WHEN wage_used_usd IS NULL THEN 'no longer published'
                           ELSE 'now published' END
    ELSE 'wage crossed the threshold: '
         || format('${:,.2f} → ${:,.2f} per {} (threshold ${:,.2f})',
                   previous_wage_used_usd, wage_used_usd, wage_used_unit, threshold_used_usd)
  END AS change_reason,
  is_policy_changed,
  is_skill_tier_source_changed
FROM (
  SELECT *,
         coalesce(previous_skill_tier_source <> skill_tier_source, false)
           AS is_skill_tier_source_changed
  FROM rows
)
CROSS JOIN policies
WHERE $2 IS NOT NULL
