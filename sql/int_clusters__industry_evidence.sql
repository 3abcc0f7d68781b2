-- int_clusters__industry_evidence: for every OEWS detailed occupation and every Career Cluster,
-- the share of the occupation's national employment that works in the NAICS sectors Advance CTE
-- aligns with the cluster (raw_framework__cluster_sectors; OEWS writes sectors as SS--EE and puts
-- public administration in 99-100). Shares use the sector cells whose employment BLS published;
-- suppressed sector cells are counted so the evidence can say how complete it is.
-- $1 release code.
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
), by_cluster AS (
  SELECT
    c.occupation_code,
    s.cluster_code,
    CAST(sum(c.employment_count) AS BIGINT) AS cluster_employment,
    -- ties broken by code, so the same inputs always give the same evidence text
    first(c.industry_code ORDER BY coalesce(c.employment_count, 0) DESC, c.industry_code)
      AS top_industry_code,
    first(c.industry_name ORDER BY coalesce(c.employment_count, 0) DESC, c.industry_code)
      AS top_industry_name,
    max(coalesce(c.employment_count, 0)) AS top_industry_employment
  FROM sector_cells AS c
  JOIN raw_framework__cluster_sectors AS s ON s.oews_sector_code = c.industry_code
  GROUP BY c.occupation_code, s.cluster_code
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
  coalesce(t.suppressed_sectors, 0) AS suppressed_sector_count
FROM stg_oews__occupations AS o
CROSS JOIN raw_framework__clusters AS f
LEFT JOIN totals AS t ON t.occupation_code = o.occupation_code
LEFT JOIN by_cluster AS b ON b.occupation_code = o.occupation_code
                         AND b.cluster_code = f.cluster_code
WHERE o.release_code = $1 AND o.is_detailed
