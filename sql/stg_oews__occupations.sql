-- stg_oews__occupations: the occupations OEWS publishes, placed in the SOC 2018 hierarchy.
-- OEWS's display_level is a display indent, not a SOC level (some broad groups sit at level 1),
-- so soc_level and the parents come from stg_soc__codes. is_detailed marks what OEWS publishes
-- as detailed (display_level 3): 7 of those are SOC broad codes (is_broad_as_detailed) and 5 are
-- OEWS aggregates that are not SOC 2018 codes (is_oews_aggregate, from raw_oews__soc_alignment);
-- an aggregate missing from the SOC list takes its parents from its first SOC component. $1 release code.
WITH occ AS (
  SELECT
    release_code,
    occupation_code,
    substr(occupation_code, 1, 2) || '-' || substr(occupation_code, 3, 4) AS soc_code,
    occupation_name,
    CAST(display_level AS TINYINT) AS display_level
  FROM raw_oews__occupation
  WHERE release_code = $1
), alignment AS (
  SELECT oews_soc_code, min(soc_code) AS first_component, any_value(alignment_kind) AS kind
  FROM raw_oews__soc_alignment
  GROUP BY oews_soc_code
)
SELECT
  occ.release_code,
  occ.occupation_code,
  occ.soc_code,
  occ.occupation_name,
  occ.display_level,
  CASE
    WHEN occ.occupation_code = '000000' THEN 'total'
    WHEN s.soc_level IS NOT NULL THEN s.soc_level
    WHEN a.kind = 'oews_aggregate' THEN 'detailed'
  END AS soc_level,
  CASE WHEN s.soc_code IS NULL THEN c.major_code ELSE s.major_code END AS major_code,
  CASE WHEN s.soc_code IS NULL THEN c.minor_code ELSE s.minor_code END AS minor_code,
  CASE WHEN s.soc_code IS NULL THEN c.broad_code ELSE s.broad_code END AS broad_code,
  occ.display_level = 3 AS is_detailed,
  occ.display_level = 3 AND coalesce(s.soc_level = 'broad', false) AS is_broad_as_detailed,
  coalesce(a.kind = 'oews_aggregate', false) AS is_oews_aggregate
FROM occ
LEFT JOIN stg_soc__codes AS s ON s.soc_code = occ.soc_code
LEFT JOIN alignment AS a ON a.oews_soc_code = occ.soc_code
LEFT JOIN stg_soc__codes AS c ON c.soc_code = a.first_component
