-- stg_soc__codes: the SOC 2018 hierarchy, from BLS's soc_structure_2018.xlsx or, offline, from
-- the OEWS occupation lists of every release in the warehouse (parsed by pipelines/sources/soc.py
-- into raw_soc__codes).
SELECT
  soc_code,
  soc_title,
  soc_level,
  major_code,
  minor_code,
  broad_code,
  is_broad_as_detailed,
  source
FROM raw_soc__codes
