-- Pivot BLS's long oe.data.0.Current (one row per series) into one row per estimate cell,
-- values and footnote codes kept as published text. {source} is a read_csv over the file;
-- {year} / {period} are the release year and period from oe.release, as quoted literals (the
-- loader defines this query as a view, which takes no parameters).
-- The check_* columns count, per cell, its rows, the rows placed in no measure (a repeated
-- series, a datatype code outside 01-17, a series_id that is not 25 characters, a row of
-- another release, an empty value) and the rows under a key that is not an OEWS cell key.
-- They travel through stg_oews__estimates.sql to the loader, which checks and drops them
-- and, only if they show a problem, reads the file again to say which.
-- One aggregate state per measure: a value with footnote codes travels as 'value<TAB>codes'
-- (a field of a tab-separated file cannot contain a tab; only ~3% of rows have codes) and is
-- split after grouping. Each measure is max(CASE ...) over the cell's rows: only one row may
-- carry that datatype (a repeated series counts as unplaced, which refuses the file), and
-- this form costs less than first(...) FILTER. The series_id pattern is checked once per cell
-- on its key, and an empty value is found after grouping too. What every one of the 6 million
-- rows costs is kept to what placing it needs: BLS pads series_id on the right only, and
-- year and period are compared as they are first, trimmed only when that fails.
WITH series AS (
  -- A row is placed in its cell's measure only if it belongs to the release: otherwise (and
  -- for a series_id that is not 25 characters, whose datatype part is then not two
  -- characters) it lands in no measure and counts as unplaced below.
  SELECT
    substr(series_id, 1, 23) AS cell_key,
    CASE WHEN ("year" = {year} OR trim("year") = {year})
          AND ("period" = {period} OR trim("period") = {period})
         THEN rtrim(substr(series_id, 24)) END AS datatype_code,
    trim("value") AS value,
    nullif(trim(footnote_codes), '') AS footnote_codes
  FROM {source}
),
cells AS (
  SELECT
    cell_key,
    max(CASE WHEN datatype_code = '01' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x01,
    max(CASE WHEN datatype_code = '02' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x02,
    max(CASE WHEN datatype_code = '03' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x03,
    max(CASE WHEN datatype_code = '04' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x04,
    max(CASE WHEN datatype_code = '05' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x05,
    max(CASE WHEN datatype_code = '06' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x06,
    max(CASE WHEN datatype_code = '07' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x07,
    max(CASE WHEN datatype_code = '08' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x08,
    max(CASE WHEN datatype_code = '09' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x09,
    max(CASE WHEN datatype_code = '10' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x10,
    max(CASE WHEN datatype_code = '11' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x11,
    max(CASE WHEN datatype_code = '12' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x12,
    max(CASE WHEN datatype_code = '13' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x13,
    max(CASE WHEN datatype_code = '14' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x14,
    max(CASE WHEN datatype_code = '15' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x15,
    max(CASE WHEN datatype_code = '16' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x16,
    max(CASE WHEN datatype_code = '17' THEN (CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) END) AS x17,
    count(*) AS n_rows
  FROM series
  GROUP BY cell_key
),
split AS (
  -- An empty value (nothing but padding) is no value: NULL here, and unplaced below.
  SELECT
    cell_key,
    n_rows,
    nullif(CASE WHEN contains(x01, chr(9)) THEN split_part(x01, chr(9), 1) ELSE x01 END, '') AS v01,
    nullif(CASE WHEN contains(x02, chr(9)) THEN split_part(x02, chr(9), 1) ELSE x02 END, '') AS v02,
    nullif(CASE WHEN contains(x03, chr(9)) THEN split_part(x03, chr(9), 1) ELSE x03 END, '') AS v03,
    nullif(CASE WHEN contains(x04, chr(9)) THEN split_part(x04, chr(9), 1) ELSE x04 END, '') AS v04,
    nullif(CASE WHEN contains(x05, chr(9)) THEN split_part(x05, chr(9), 1) ELSE x05 END, '') AS v05,
    nullif(CASE WHEN contains(x06, chr(9)) THEN split_part(x06, chr(9), 1) ELSE x06 END, '') AS v06,
    nullif(CASE WHEN contains(x07, chr(9)) THEN split_part(x07, chr(9), 1) ELSE x07 END, '') AS v07,
    nullif(CASE WHEN contains(x08, chr(9)) THEN split_part(x08, chr(9), 1) ELSE x08 END, '') AS v08,
    nullif(CASE WHEN contains(x09, chr(9)) THEN split_part(x09, chr(9), 1) ELSE x09 END, '') AS v09,
    nullif(CASE WHEN contains(x10, chr(9)) THEN split_part(x10, chr(9), 1) ELSE x10 END, '') AS v10,
    nullif(CASE WHEN contains(x11, chr(9)) THEN split_part(x11, chr(9), 1) ELSE x11 END, '') AS v11,
    nullif(CASE WHEN contains(x12, chr(9)) THEN split_part(x12, chr(9), 1) ELSE x12 END, '') AS v12,
    nullif(CASE WHEN contains(x13, chr(9)) THEN split_part(x13, chr(9), 1) ELSE x13 END, '') AS v13,
    nullif(CASE WHEN contains(x14, chr(9)) THEN split_part(x14, chr(9), 1) ELSE x14 END, '') AS v14,
    nullif(CASE WHEN contains(x15, chr(9)) THEN split_part(x15, chr(9), 1) ELSE x15 END, '') AS v15,
    nullif(CASE WHEN contains(x16, chr(9)) THEN split_part(x16, chr(9), 1) ELSE x16 END, '') AS v16,
    nullif(CASE WHEN contains(x17, chr(9)) THEN split_part(x17, chr(9), 1) ELSE x17 END, '') AS v17,
    CASE WHEN contains(x01, chr(9)) THEN nullif(split_part(x01, chr(9), 2), '') END AS f01,
    CASE WHEN contains(x02, chr(9)) THEN nullif(split_part(x02, chr(9), 2), '') END AS f02,
    CASE WHEN contains(x03, chr(9)) THEN nullif(split_part(x03, chr(9), 2), '') END AS f03,
    CASE WHEN contains(x04, chr(9)) THEN nullif(split_part(x04, chr(9), 2), '') END AS f04,
    CASE WHEN contains(x05, chr(9)) THEN nullif(split_part(x05, chr(9), 2), '') END AS f05,
    CASE WHEN contains(x06, chr(9)) THEN nullif(split_part(x06, chr(9), 2), '') END AS f06,
    CASE WHEN contains(x07, chr(9)) THEN nullif(split_part(x07, chr(9), 2), '') END AS f07,
    CASE WHEN contains(x08, chr(9)) THEN nullif(split_part(x08, chr(9), 2), '') END AS f08,
    CASE WHEN contains(x09, chr(9)) THEN nullif(split_part(x09, chr(9), 2), '') END AS f09,
    CASE WHEN contains(x10, chr(9)) THEN nullif(split_part(x10, chr(9), 2), '') END AS f10,
    CASE WHEN contains(x11, chr(9)) THEN nullif(split_part(x11, chr(9), 2), '') END AS f11,
    CASE WHEN contains(x12, chr(9)) THEN nullif(split_part(x12, chr(9), 2), '') END AS f12,
    CASE WHEN contains(x13, chr(9)) THEN nullif(split_part(x13, chr(9), 2), '') END AS f13,
    CASE WHEN contains(x14, chr(9)) THEN nullif(split_part(x14, chr(9), 2), '') END AS f14,
    CASE WHEN contains(x15, chr(9)) THEN nullif(split_part(x15, chr(9), 2), '') END AS f15,
    CASE WHEN contains(x16, chr(9)) THEN nullif(split_part(x16, chr(9), 2), '') END AS f16,
    CASE WHEN contains(x17, chr(9)) THEN nullif(split_part(x17, chr(9), 2), '') END AS f17
  FROM cells
)
SELECT
  cell_key,
  v01, v02, v03, v04, v05, v06, v07, v08, v09, v10, v11, v12, v13, v14, v15, v16, v17,
  f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, f13, f14, f15, f16, f17,
  n_rows AS check_rows,
  n_rows - (
    (v01 IS NOT NULL)::INTEGER + (v02 IS NOT NULL)::INTEGER + (v03 IS NOT NULL)::INTEGER + (v04 IS NOT NULL)::INTEGER +
    (v05 IS NOT NULL)::INTEGER + (v06 IS NOT NULL)::INTEGER + (v07 IS NOT NULL)::INTEGER + (v08 IS NOT NULL)::INTEGER +
    (v09 IS NOT NULL)::INTEGER + (v10 IS NOT NULL)::INTEGER + (v11 IS NOT NULL)::INTEGER + (v12 IS NOT NULL)::INTEGER +
    (v13 IS NOT NULL)::INTEGER + (v14 IS NOT NULL)::INTEGER + (v15 IS NOT NULL)::INTEGER + (v16 IS NOT NULL)::INTEGER +
    (v17 IS NOT NULL)::INTEGER
  ) AS check_unplaced_rows,
  CASE WHEN regexp_full_match(cell_key, 'OEU[NSM][0-9]{7}[0-9A-Z-]{6}[0-9]{6}') THEN 0
       ELSE n_rows END AS check_bad_key_rows
FROM split
