-- out_clusters__cluster_industry: for each Career Cluster, and each of its Sub-Clusters, the
-- industries (NAICS sectors and 3-digit subsectors, as OEWS publishes them nationally) where its
-- QUALIFYING occupations work: employment, the share of the cluster's (or sub-cluster's)
-- qualifying jobs in all industries, and the largest occupations. The share's base
-- (share_base_employment_count) is the headline total, the occupations' national
-- cross-industry employment, except that an occupation counts with at least the sum of its
-- published figures at either industry level (its total unpublished, or BLS's separately
-- rounded industry figures adding up to a few jobs more): so no share passes 100%. One base for
-- both levels, so a sector and a subsector holding the same jobs show the same share; shares add
-- up to about 100% by sector (less where a sector's cell is not published) and to less by
-- subsector (government and some sectors have no subsector estimates). At cluster level each
-- occupation counts once even when it sits in several of the cluster's sub-clusters.
-- Occupations in several clusters count in each (these are per-cluster totals, not additive
-- across clusters). Suppressed industry cells are counted, not guessed. $1 release code.
WITH qualifying AS (
  SELECT DISTINCT occupation_code, occupation_name, cluster_code, sub_cluster_code
  FROM out_clusters__occupation_cluster
  WHERE release_code = $1 AND status = 'qualifies'
), units AS (
  SELECT DISTINCT occupation_code, occupation_name, cluster_code, NULL AS sub_cluster_code
  FROM qualifying
  UNION ALL
  SELECT occupation_code, occupation_name, cluster_code, sub_cluster_code FROM qualifying
), cells AS (
  SELECT
    e.occupation_code,
    e.industry_code,
    i.industry_name,
    CASE WHEN i.industry_kind = 'sector' THEN 'sector' ELSE 'subsector' END AS industry_level,
    i.naics_code,
    i.naics_sector_code,
    e.employment_count
  FROM stg_oews__estimates AS e
  JOIN stg_oews__industries AS i USING (release_code, industry_code)
  WHERE e.release_code = $1 AND e.area_code = '0000000'
    AND (i.industry_kind = 'sector' OR (i.industry_kind = 'naics' AND i.naics_level = 3))
), joined AS (
  SELECT u.cluster_code, u.sub_cluster_code, u.occupation_code, u.occupation_name, c.*
    EXCLUDE (occupation_code)
  FROM units AS u
  JOIN cells AS c USING (occupation_code)
), occupation_bases AS (  -- per occupation: its total, or more if its industries add up to more
  SELECT
    q.occupation_code,
    greatest(
      coalesce(any_value(t.employment_count), 0),
      coalesce(sum(c.employment_count) FILTER (WHERE c.industry_level = 'sector'), 0),
      coalesce(sum(c.employment_count) FILTER (WHERE c.industry_level = 'subsector'), 0)
    ) AS base_count
  FROM (SELECT DISTINCT occupation_code FROM qualifying) AS q
  LEFT JOIN stg_oews__estimates AS t
    ON t.release_code = $1 AND t.area_code = '0000000' AND t.industry_code = '000000'
   AND t.occupation_code = q.occupation_code
  LEFT JOIN cells AS c ON c.occupation_code = q.occupation_code
  GROUP BY q.occupation_code
), bases AS (
  SELECT u.cluster_code, u.sub_cluster_code, CAST(sum(b.base_count) AS BIGINT) AS base_count
  FROM units AS u
  JOIN occupation_bases AS b USING (occupation_code)
  GROUP BY ALL
), grouped AS (
  SELECT
    cluster_code,
    sub_cluster_code,
    industry_level,
    industry_code,
    any_value(industry_name) AS industry_name,
    any_value(naics_code) AS naics_code,
    any_value(naics_sector_code) AS naics_sector_code,
    CAST(sum(employment_count) AS BIGINT) AS employment_count,
    CAST(count(DISTINCT occupation_code) FILTER (WHERE employment_count > 0) AS BIGINT)
      AS occupation_count,
    CAST(count_if(employment_count IS NULL) AS BIGINT) AS suppressed_cell_count,
    list(occupation_name ORDER BY employment_count DESC NULLS LAST, occupation_name)
      FILTER (WHERE employment_count > 0) AS occupations_by_employment
  FROM joined
  GROUP BY ALL
)
SELECT
  $1 AS release_code,
  g.cluster_code,
  g.sub_cluster_code,
  industry_level,
  industry_code,
  industry_name,
  naics_code,
  naics_sector_code,
  coalesce(g.employment_count, 0) AS employment_count,
  CAST(coalesce(g.employment_count, 0) AS DOUBLE) / nullif(b.base_count, 0) AS employment_share,
  b.base_count AS share_base_employment_count,
  occupation_count,
  suppressed_cell_count,
  array_to_string(occupations_by_employment[1:3], '; ') AS top_occupations
FROM grouped AS g
LEFT JOIN bases AS b
  ON b.cluster_code = g.cluster_code
 AND b.sub_cluster_code IS NOT DISTINCT FROM g.sub_cluster_code
WHERE coalesce(g.employment_count, 0) > 0 OR g.suppressed_cell_count > 0
