-- out_profiles__cluster_states: where each Career Cluster's QUALIFYING occupations work, by state
-- (OEWS statewide estimates, all industries). BLS withholds some state cells; they are counted,
-- never filled, so employment is the sum of the released cells (a lower bound where
-- suppressed_occupation_count > 0). The location quotient compares the cluster's share of the
-- state's jobs with its share of the nation's jobs, both over the same occupations: those whose
-- state cell BLS published (and national cell, always published for a qualifying occupation):
--   (state jobs in them / state total) / (national jobs in them / national total).
-- Over all the cluster's occupations nationally, a state with unpublished cells would look less
-- concentrated than it is, by as much as the withheld occupations' national share.
-- $1 release code.
WITH occupations AS (
  SELECT DISTINCT cluster_code, occupation_code
  FROM out_clusters__occupation_cluster
  WHERE release_code = $1 AND status = 'qualifies'
), states AS (
  SELECT area_code, area_name, state_code
  FROM stg_oews__areas WHERE release_code = $1 AND area_type = 'state'
), totals AS (
  SELECT area_code, employment_count AS total_employment_count
  FROM stg_oews__estimates
  WHERE release_code = $1 AND industry_code = '000000' AND occupation_code = '000000'
), national AS (
  SELECT occupation_code, employment_count AS national_employment_count
  FROM stg_oews__estimates
  WHERE release_code = $1 AND area_code = '0000000' AND industry_code = '000000'
), cells AS (
  SELECT o.cluster_code, s.area_code, e.employment_count, n.national_employment_count
  FROM occupations AS o
  CROSS JOIN states AS s
  LEFT JOIN stg_oews__estimates AS e
    ON e.release_code = $1 AND e.area_code = s.area_code AND e.industry_code = '000000'
   AND e.occupation_code = o.occupation_code
  LEFT JOIN national AS n ON n.occupation_code = o.occupation_code
), by_state AS (
  SELECT
    cluster_code,
    area_code,
    CAST(coalesce(sum(employment_count), 0) AS BIGINT) AS employment_count,
    CAST(count(employment_count) AS BIGINT) AS released_occupation_count,
    CAST(count(*) - count(employment_count) AS BIGINT) AS suppressed_occupation_count,
    -- the location quotient's occupations: published in the state and nationally
    sum(employment_count) FILTER (WHERE national_employment_count IS NOT NULL)
      AS compared_employment_count,
    sum(national_employment_count) FILTER (WHERE employment_count IS NOT NULL)
      AS compared_national_employment_count
  FROM cells
  GROUP BY 1, 2
)
SELECT
  $1 AS release_code,
  b.cluster_code,
  b.area_code,
  s.area_name,
  s.state_code,
  b.employment_count,
  b.released_occupation_count,
  b.suppressed_occupation_count,
  t.total_employment_count,
  CAST(b.employment_count AS DOUBLE) / nullif(t.total_employment_count, 0) AS employment_share,
  (CAST(b.compared_employment_count AS DOUBLE) / nullif(t.total_employment_count, 0))
    / nullif(CAST(b.compared_national_employment_count AS DOUBLE) / nt.total_employment_count, 0)
    AS location_quotient
FROM by_state AS b
JOIN states AS s USING (area_code)
LEFT JOIN totals AS t USING (area_code)
CROSS JOIN (SELECT total_employment_count FROM totals WHERE area_code = '0000000') AS nt
