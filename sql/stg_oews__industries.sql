-- stg_oews__industries: OEWS industry codes mapped to NAICS 2022.
-- OEWS codes are not NAICS codes: sectors are written SS--EE (EE = next sector, exclusive), so
-- 31--34 is NAICS 31-33; NAICS-based codes are zero-padded to 6 digits (113300 = 1133);
-- xxx0A1..A3 are OEWS aggregates of several NAICS industries; dddd02/03/05 (and ddd002...) are
-- state/local/private ownership variants of a 3- or 4-digit industry (no NAICS code has a 5th
-- digit 0 followed by another digit); 999xxx are OEWS government designations, and 99-100
-- is Sector 99 (OEWS has no NAICS 92). display_level: never sum across levels. $1 release code.
WITH classified AS (
  SELECT
    release_code,
    industry_code,
    industry_name,
    CAST(display_level AS TINYINT) AS display_level,
    CASE
      WHEN industry_code IN ('000000', '000001') THEN 'cross_industry'
      WHEN regexp_full_match(industry_code, '[0-9]{2}-{1,2}[0-9]{2,3}') THEN 'sector'
      WHEN starts_with(industry_code, '999') THEN 'government'
      WHEN regexp_full_match(industry_code, '[0-9]{4}A[0-9]') THEN 'oews_aggregate'
      WHEN regexp_full_match(industry_code, '[0-9]{4}0[1-9]') THEN 'ownership_variant'
      ELSE 'naics'
    END AS industry_kind
  FROM raw_oews__industry
  WHERE release_code = $1
), mapped AS (
  SELECT
    *,
    CASE industry_kind
      WHEN 'sector' THEN
        CASE
          WHEN CAST(regexp_extract(industry_code, '-+([0-9]+)$', 1) AS INTEGER)
               = CAST(substr(industry_code, 1, 2) AS INTEGER) + 1
            THEN nullif(substr(industry_code, 1, 2), '99')
          ELSE substr(industry_code, 1, 2) || '-'
               || CAST(CAST(regexp_extract(industry_code, '-+([0-9]+)$', 1) AS INTEGER) - 1 AS VARCHAR)
        END
      WHEN 'naics' THEN
        CASE WHEN length(rtrim(industry_code, '0')) < 3 THEN substr(industry_code, 1, 3)
             ELSE rtrim(industry_code, '0') END
    END AS naics_code,
    CASE industry_kind
      WHEN 'oews_aggregate' THEN rtrim(substr(industry_code, 1, 4), '0')
      WHEN 'ownership_variant' THEN rtrim(substr(industry_code, 1, 4), '0')
    END AS naics_parent_code
  FROM classified
)
SELECT
  release_code,
  industry_code,
  industry_name,
  display_level,
  industry_kind,
  naics_code,
  CAST(CASE WHEN industry_kind = 'sector' AND naics_code IS NOT NULL THEN 2
            ELSE length(naics_code) END AS TINYINT) AS naics_level,
  naics_parent_code,
  CASE
    WHEN industry_kind IN ('cross_industry', 'government') THEN NULL
    WHEN industry_kind = 'sector' THEN naics_code
    WHEN substr(industry_code, 1, 2) IN ('31', '32', '33') THEN '31-33'
    WHEN substr(industry_code, 1, 2) IN ('44', '45') THEN '44-45'
    WHEN substr(industry_code, 1, 2) IN ('48', '49') THEN '48-49'
    ELSE substr(industry_code, 1, 2)
  END AS naics_sector_code,
  industry_kind = 'oews_aggregate' AS is_oews_aggregate,
  industry_kind = 'ownership_variant' AS is_ownership_variant,
  industry_kind = 'government' OR industry_code = '99-100' AS is_government_designation
FROM mapped
