-- int_clusters__industry_evidence: for every OEWS detailed occupation and every Career Cluster,
-- the share of the occupation's national employment that works in the NAICS sectors Advance CTE
-- aligns with the cluster (raw_framework__cluster_sectors; OEWS writes sectors as SS--EE and puts
-- public administration in 99-100), less the sectors the rule file says do not count for it
-- (raw_policy__evidence_sector_exclusions; counted_sectors lists those that do) and less the
-- subsectors and industry groups within them it says do not count either
-- (raw_policy__evidence_industry_exclusions: their published national cells are taken out; a
-- suppressed one cannot be and stays counted). Shares use the sector cells whose employment
-- BLS published; suppressed sector cells are counted so the evidence can say how complete it
-- is. top_subsector_* is the 3-digit NAICS subsector that employs most of the occupation
-- within those sectors, and top_industry_group_* the 4-digit group that employs most of it
-- within that subsector (how an occupation placed by industry evidence alone may get its
-- sub-cluster). Each is decisive (is_top_*_decisive) only if it
-- employs more of the occupation than the part BLS publishes no finer cell for (suppressed
-- cells, or government, which OEWS does not split by subsector). $1 release code.
WITH sector_cells AS (
  SELECT e.occupation_code, e.industry_code, i.industry_name, e.employment_count,
         e.employment_count IS NULL AS is_suppressed
  FROM stg_oews__estimates AS e
  JOIN stg_oews__industries AS i USING (release_code, industry_code)
  WHERE e.release_code = $1 AND e.area_code = '0000000' AND i.industry_kind = 'sector'
), totals AS (
  SELECT occupation_code,
         CAST(sum(employment_count) AS BIGINT) AS sector_employment,
         count_if(is_suppressed) AS suppressed_sectors
  FROM sector_cells
  GROUP BY occupation_code
), counted AS (
  SELECT s.*
  FROM raw_framework__cluster_sectors AS s
  ANTI JOIN raw_policy__evidence_sector_exclusions AS x USING (cluster_code, naics_sector)
), counted_lists AS (
  -- e.g. "92 = OEWS 99, 56 less NAICS 5611, 5612": each sector with the industries left out of
  -- it right after it, last, so that the list of codes reads as that sector's (OEWS writes
  -- public administration, NAICS 92, as sector 99: said where it counts)
  SELECT c.cluster_code,
         string_agg(
           CASE c.naics_sector WHEN '92' THEN '92 = OEWS 99' ELSE c.naics_sector END
             || coalesce(' less NAICS ' || x.codes, ''),
           ', ' ORDER BY x.codes IS NOT NULL, c.naics_sector) AS counted_sectors
  FROM counted AS c
  LEFT JOIN (
    SELECT cluster_code, naics_sector,
           string_agg(naics_code, ', ' ORDER BY naics_code) AS codes
    FROM raw_policy__evidence_industry_exclusions GROUP BY ALL
  ) AS x USING (cluster_code, naics_sector)
  GROUP BY c.cluster_code
), excluded_parts AS (
  -- the published national cells of the industries that are not the cluster's evidence
  SELECT e.occupation_code, x.cluster_code, i.naics_sector_code, x.naics_code,
         e.employment_count
  FROM raw_policy__evidence_industry_exclusions AS x
  JOIN stg_oews__industries AS i
    ON i.release_code = $1 AND i.industry_kind = 'naics' AND i.naics_code = x.naics_code
  JOIN stg_oews__estimates AS e USING (release_code, industry_code)
  WHERE e.area_code = '0000000' AND e.employment_count > 0
), excluded_by_sector AS (
  SELECT occupation_code, cluster_code, naics_sector_code,
         sum(employment_count) AS excluded_employment
  FROM excluded_parts GROUP BY ALL
), excluded_groups AS (
  -- excluded 4-digit groups, to take out of their subsector's cell
  SELECT occupation_code, cluster_code, left(naics_code, 3) AS subsector_code,
         sum(employment_count) AS excluded_employment
  FROM excluded_parts WHERE length(naics_code) = 4 GROUP BY ALL
), finer_cells AS (
  SELECT e.occupation_code, s.cluster_code, i.naics_code, i.naics_level, i.industry_name,
         e.employment_count - coalesce(g.excluded_employment, 0) AS employment_count
  FROM stg_oews__estimates AS e
  JOIN stg_oews__industries AS i USING (release_code, industry_code)
  JOIN counted AS s ON s.naics_sector = i.naics_sector_code
  LEFT JOIN excluded_groups AS g
    ON g.occupation_code = e.occupation_code AND g.cluster_code = s.cluster_code
   AND g.subsector_code = i.naics_code
  WHERE e.release_code = $1 AND e.area_code = '0000000' AND i.industry_kind = 'naics'
    AND i.naics_level IN (3, 4)
    -- what is left of the cell once its excluded groups are out (BLS rounds each cell on its
    -- own, so nothing, or less than nothing, may be left)
    AND e.employment_count - coalesce(g.excluded_employment, 0) > 0
    AND NOT EXISTS (  -- an excluded subsector or group, or a group in an excluded subsector
      SELECT 1 FROM raw_policy__evidence_industry_exclusions AS x
      WHERE x.cluster_code = s.cluster_code AND starts_with(i.naics_code, x.naics_code))
), top_subsectors AS (
  -- ties broken by code, so the same inputs always give the same sub-cluster
  SELECT occupation_code, cluster_code,
         arg_max(naics_code, (employment_count, -CAST(naics_code AS INTEGER)))
           AS top_subsector_code,
         arg_max(industry_name, (employment_count, -CAST(naics_code AS INTEGER)))
           AS top_subsector_name,
         max(employment_count) AS top_subsector_employment_count,
         sum(employment_count) AS published_employment
  FROM finer_cells WHERE naics_level = 3
  GROUP BY occupation_code, cluster_code
), top_groups AS (
  SELECT g.occupation_code, g.cluster_code,
         arg_max(g.naics_code, (g.employment_count, -CAST(g.naics_code AS INTEGER)))
           AS top_industry_group_code,
         arg_max(g.industry_name, (g.employment_count, -CAST(g.naics_code AS INTEGER)))
           AS top_industry_group_name,
         max(g.employment_count) AS top_employment,
         sum(g.employment_count) AS published_employment
  FROM finer_cells AS g
  JOIN top_subsectors AS t
    ON t.occupation_code = g.occupation_code AND t.cluster_code = g.cluster_code
   AND left(g.naics_code, 3) = t.top_subsector_code
  WHERE g.naics_level = 4
  GROUP BY g.occupation_code, g.cluster_code
), by_cluster AS (
  SELECT
    c.occupation_code,
    c.cluster_code,
    CAST(sum(c.counted_employment) AS BIGINT) AS cluster_employment,
    -- ties broken by code, so the same inputs always give the same evidence text
    first(c.industry_code ORDER BY c.counted_employment DESC, c.industry_code)
      FILTER (WHERE c.counted_employment > 0) AS top_industry_code,
    first(c.industry_name ORDER BY c.counted_employment DESC, c.industry_code)
      FILTER (WHERE c.counted_employment > 0) AS top_industry_name,
    max(coalesce(c.counted_employment, 0)) AS top_industry_employment
  FROM (
    SELECT c.*, s.cluster_code,
           -- never below zero: BLS rounds the sector's cell and its parts' cells independently
           greatest(c.employment_count - coalesce(x.excluded_employment, 0), 0)
             AS counted_employment
    FROM sector_cells AS c
    JOIN counted AS s ON s.oews_sector_code = c.industry_code
    LEFT JOIN excluded_by_sector AS x
      ON x.occupation_code = c.occupation_code AND x.cluster_code = s.cluster_code
     AND x.naics_sector_code = s.naics_sector
  ) AS c
  GROUP BY c.occupation_code, c.cluster_code
)
SELECT
  $1 AS release_code,
  o.occupation_code,
  o.soc_code,
  f.cluster_code,
  coalesce(b.cluster_employment, 0) AS cluster_sector_employment_count,
  t.sector_employment AS sector_employment_count,
  CASE WHEN t.sector_employment > 0
       THEN CAST(coalesce(b.cluster_employment, 0) AS DOUBLE) / t.sector_employment
  END AS industry_share,
  b.top_industry_code,
  b.top_industry_name,
  CAST(coalesce(t.suppressed_sectors, 0) AS BIGINT) AS suppressed_sector_count,
  l.counted_sectors,
  ts.top_subsector_code,
  ts.top_subsector_name,
  CAST(ts.top_subsector_employment_count AS BIGINT) AS top_subsector_employment_count,
  coalesce(ts.top_subsector_employment_count
           > b.cluster_employment - ts.published_employment, false)
    AS is_top_subsector_decisive,
  tg.top_industry_group_code,
  tg.top_industry_group_name,
  coalesce(ts.top_subsector_employment_count
           > b.cluster_employment - ts.published_employment
           AND tg.top_employment > ts.top_subsector_employment_count - tg.published_employment,
           false) AS is_top_industry_group_decisive
FROM stg_oews__occupations AS o
CROSS JOIN raw_framework__clusters AS f
JOIN counted_lists AS l ON l.cluster_code = f.cluster_code
LEFT JOIN totals AS t ON t.occupation_code = o.occupation_code
LEFT JOIN by_cluster AS b ON b.occupation_code = o.occupation_code
                         AND b.cluster_code = f.cluster_code
LEFT JOIN top_subsectors AS ts ON ts.occupation_code = o.occupation_code
                              AND ts.cluster_code = f.cluster_code
LEFT JOIN top_groups AS tg ON tg.occupation_code = o.occupation_code
                          AND tg.cluster_code = f.cluster_code
WHERE o.release_code = $1 AND o.is_detailed
