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
-- split after grouping; the series_id pattern is checked once per cell on its key.
WITH series AS (
  -- A row is placed in its cell's measure only if it belongs to the release and has a value:
  -- otherwise (and for a series_id that is not 25 characters, whose datatype part is then not
  -- two characters) it lands in no measure and counts as unplaced below.
  SELECT
    trim(series_id) AS series_id,
    CASE WHEN trim("year") = {year} AND trim("period") = {period} AND trim("value") <> ''
         THEN substr(trim(series_id), 24) END AS datatype_code,
    trim("value") AS value,
    nullif(trim(footnote_codes), '') AS footnote_codes
  FROM {source}
),
cells AS (
  SELECT
    substr(series_id, 1, 23) AS cell_key,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '01') AS x01,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '02') AS x02,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '03') AS x03,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '04') AS x04,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '05') AS x05,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '06') AS x06,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '07') AS x07,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '08') AS x08,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '09') AS x09,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '10') AS x10,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '11') AS x11,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '12') AS x12,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '13') AS x13,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '14') AS x14,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '15') AS x15,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '16') AS x16,
    first(CASE WHEN footnote_codes IS NULL THEN value ELSE value || chr(9) || footnote_codes END) FILTER (WHERE datatype_code = '17') AS x17,
    count(*) AS n_rows
  FROM series
  GROUP BY substr(series_id, 1, 23)
)
SELECT
  cell_key,
  CASE WHEN contains(x01, chr(9)) THEN split_part(x01, chr(9), 1) ELSE x01 END AS v01,
  CASE WHEN contains(x02, chr(9)) THEN split_part(x02, chr(9), 1) ELSE x02 END AS v02,
  CASE WHEN contains(x03, chr(9)) THEN split_part(x03, chr(9), 1) ELSE x03 END AS v03,
  CASE WHEN contains(x04, chr(9)) THEN split_part(x04, chr(9), 1) ELSE x04 END AS v04,
  CASE WHEN contains(x05, chr(9)) THEN split_part(x05, chr(9), 1) ELSE x05 END AS v05,
  CASE WHEN contains(x06, chr(9)) THEN split_part(x06, chr(9), 1) ELSE x06 END AS v06,
  CASE WHEN contains(x07, chr(9)) THEN split_part(x07, chr(9), 1) ELSE x07 END AS v07,
  CASE WHEN contains(x08, chr(9)) THEN split_part(x08, chr(9), 1) ELSE x08 END AS v08,
  CASE WHEN contains(x09, chr(9)) THEN split_part(x09, chr(9), 1) ELSE x09 END AS v09,
  CASE WHEN contains(x10, chr(9)) THEN split_part(x10, chr(9), 1) ELSE x10 END AS v10,
  CASE WHEN contains(x11, chr(9)) THEN split_part(x11, chr(9), 1) ELSE x11 END AS v11,
  CASE WHEN contains(x12, chr(9)) THEN split_part(x12, chr(9), 1) ELSE x12 END AS v12,
  CASE WHEN contains(x13, chr(9)) THEN split_part(x13, chr(9), 1) ELSE x13 END AS v13,
  CASE WHEN contains(x14, chr(9)) THEN split_part(x14, chr(9), 1) ELSE x14 END AS v14,
  CASE WHEN contains(x15, chr(9)) THEN split_part(x15, chr(9), 1) ELSE x15 END AS v15,
  CASE WHEN contains(x16, chr(9)) THEN split_part(x16, chr(9), 1) ELSE x16 END AS v16,
  CASE WHEN contains(x17, chr(9)) THEN split_part(x17, chr(9), 1) ELSE x17 END AS v17,
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
  CASE WHEN contains(x17, chr(9)) THEN nullif(split_part(x17, chr(9), 2), '') END AS f17,
  n_rows AS check_rows,
  n_rows - (
    (x01 IS NOT NULL)::INTEGER + (x02 IS NOT NULL)::INTEGER + (x03 IS NOT NULL)::INTEGER + (x04 IS NOT NULL)::INTEGER +
    (x05 IS NOT NULL)::INTEGER + (x06 IS NOT NULL)::INTEGER + (x07 IS NOT NULL)::INTEGER + (x08 IS NOT NULL)::INTEGER +
    (x09 IS NOT NULL)::INTEGER + (x10 IS NOT NULL)::INTEGER + (x11 IS NOT NULL)::INTEGER + (x12 IS NOT NULL)::INTEGER +
    (x13 IS NOT NULL)::INTEGER + (x14 IS NOT NULL)::INTEGER + (x15 IS NOT NULL)::INTEGER + (x16 IS NOT NULL)::INTEGER +
    (x17 IS NOT NULL)::INTEGER
  ) AS check_unplaced_rows,
  CASE WHEN regexp_full_match(cell_key, 'OEU[NSM][0-9]{7}[0-9A-Z-]{6}[0-9]{6}') THEN 0
       ELSE n_rows END AS check_bad_key_rows
FROM cells
