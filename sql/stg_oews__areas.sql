-- stg_oews__areas: OEWS areas. Nonmetropolitan areas are areatype M like metros but their codes
-- start with the state FIPS code (SS000NN) instead of 00 + CBSA. $1 release code.
SELECT
  release_code,
  area_code,
  area_name,
  areatype_code,
  CASE
    WHEN areatype_code = 'N' THEN 'national'
    WHEN areatype_code = 'S' THEN 'state'
    WHEN areatype_code = 'M' AND starts_with(area_code, '00') THEN 'metropolitan'
    ELSE 'nonmetropolitan'
  END AS area_type,
  state_code
FROM raw_oews__area
WHERE release_code = $1
