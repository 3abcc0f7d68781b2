-- out_profiles__cluster_industry_changes: how each Career Cluster's industries changed since the
-- previous OEWS release in the warehouse (cluster level, NAICS sectors and 3-digit subsectors as
-- in out_clusters__cluster_industry): qualifying employment then and now, and industry codes that
-- are new or no longer published (a NAICS revision, e.g. 2017's 511 Publishing became 2022's 513).
-- Whether a code is new is read from each release's OEWS industry list, not from the cluster's
-- rows, so an industry the cluster merely stopped employing in is not a code change. A previous
-- release loaded from the national workbook alone has no industry estimates: when either
-- release has none, the rows say 'not compared' instead of reporting every industry as new or
-- gone.
-- $1 current release, $2 previous release (no rows when there is none).
WITH codes AS (
  SELECT release_code, industry_code, industry_name
  FROM stg_oews__industries
  WHERE release_code IN ($1, $2)
    AND (industry_kind = 'sector' OR (industry_kind = 'naics' AND naics_level = 3))
), estimates_missing AS (  -- the release without industry estimates (previous first), if any
  SELECT CASE WHEN count(*) FILTER (WHERE release_code = $2) = 0 THEN $2
              WHEN count(*) FILTER (WHERE release_code = $1) = 0 THEN $1 END
           AS release_without_industries
  FROM codes
), current_rows AS (
  SELECT * FROM out_clusters__cluster_industry
  WHERE release_code = $1 AND sub_cluster_code IS NULL
), previous_rows AS (
  SELECT * FROM out_clusters__cluster_industry
  WHERE release_code = $2 AND sub_cluster_code IS NULL
), clusters AS (
  SELECT DISTINCT cluster_code FROM out_clusters__occupation_cluster WHERE release_code = $1
), paired AS (
  SELECT
    coalesce(c.cluster_code, p.cluster_code) AS cluster_code,
    coalesce(c.industry_level, p.industry_level) AS industry_level,
    coalesce(c.industry_code, p.industry_code) AS industry_code,
    coalesce(c.industry_name, p.industry_name) AS industry_name,
    coalesce(c.naics_code, p.naics_code) AS naics_code,
    p.employment_count AS previous_employment_count,
    c.employment_count,
    -- recomputed from the previous row's own base: NULL for a row an earlier version built,
    -- whose share had another base, rather than a comparison of unlike shares
    CAST(p.employment_count AS DOUBLE) / nullif(p.share_base_employment_count, 0)
      AS previous_employment_share,
    c.employment_share
  FROM current_rows AS c
  FULL JOIN previous_rows AS p USING (cluster_code, industry_code)
), classified AS (
  SELECT
    r.*,
    h.release_without_industries,
    cur.industry_code IS NOT NULL AS is_in_current_list,
    prev.industry_code IS NOT NULL AS is_in_previous_list,
    prev.industry_name AS previous_list_name
  FROM paired AS r
  CROSS JOIN estimates_missing AS h
  LEFT JOIN codes AS cur ON cur.release_code = $1 AND cur.industry_code = r.industry_code
  LEFT JOIN codes AS prev ON prev.release_code = $2 AND prev.industry_code = r.industry_code
  WHERE r.cluster_code IN (SELECT cluster_code FROM clusters)
)
SELECT
  CAST($1 AS VARCHAR) AS release_code,
  CAST($2 AS VARCHAR) AS previous_release_code,
  cluster_code,
  industry_level,
  industry_code,
  industry_name,
  naics_code,
  previous_employment_count,
  employment_count,
  employment_count - previous_employment_count AS employment_change_count,
  previous_employment_share,
  employment_share,
  CASE
    WHEN release_without_industries IS NOT NULL THEN 'not compared'
    WHEN NOT is_in_current_list THEN 'industry code no longer published'
    WHEN NOT is_in_previous_list THEN 'new industry code'
    ELSE 'same industry code'
  END AS change_kind,
  CASE
    WHEN release_without_industries IS NOT NULL
      THEN release_without_industries || ' has no industry estimates in the warehouse (loaded '
           || 'from the national workbook alone); add its industry workbooks (oesm'
           || substr(release_without_industries, 3, 2) || 'in4.zip) to compare industries'
    WHEN NOT is_in_current_list
      THEN 'industry code not in the ' || $1 || ' release (code change)'
    WHEN NOT is_in_previous_list
      THEN 'industry code not in the ' || $2 || ' release (code change)'
    WHEN previous_list_name IS DISTINCT FROM industry_name
      THEN 'renamed: ' || previous_list_name || ' → ' || industry_name
    WHEN previous_employment_count IS NULL
      THEN 'no qualifying employment published in this industry in ' || $2
    WHEN employment_count IS NULL
      THEN 'no qualifying employment published in this industry in ' || $1
  END AS change_reason,
  release_without_industries IS NULL AS has_both_industry_estimates
FROM classified
WHERE $2 IS NOT NULL
