-- stg_oews__release: one row per OEWS release: name, where it came from, how many cells and
-- values it holds, and the top-code thresholds read from footnote 5 (they change between
-- releases: $100.00/$208,000 in May 2020, $115.00/$239,200 in May 2025).
-- $1 release code, $2 published value count, $3 '-' count, $4 ingested-at timestamp.
WITH release AS (
  SELECT release_code, release_name FROM raw_oews__release WHERE release_code = $1
), top_code AS (
  SELECT
    TRY_CAST(replace(regexp_extract(footnote_text, '\$([0-9,.]+) per hour', 1), ',', '') AS DOUBLE)
      AS top_code_hourly_usd,
    TRY_CAST(replace(regexp_extract(footnote_text, '\$([0-9,.]+) per year', 1), ',', '') AS DOUBLE)
      AS top_code_annual_usd
  FROM raw_oews__footnote
  WHERE release_code = $1 AND footnote_code = '5'
), parsed_file AS (
  SELECT
    any_value(source_mode) AS source_mode,
    any_value(source_mode) || ': ' || string_agg(url, ', ' ORDER BY url)
      FILTER (WHERE file_name LIKE '%.sqlite' OR file_name = 'oe.data.0.Current'
              OR file_name LIKE '%\_M____\_dl.xlsx' ESCAPE '\') AS source_label
  FROM stg_oews__files
  WHERE release_code = $1 AND is_parsed
), cells AS (
  SELECT count(*) AS cell_count FROM stg_oews__estimates WHERE release_code = $1
)
SELECT
  release.release_code,
  release.release_name,
  CAST(substr(release.release_code, 1, 4) AS INTEGER) AS data_year,
  substr(release.release_code, 5, 3) AS period,
  parsed_file.source_mode,
  parsed_file.source_label,
  top_code.top_code_hourly_usd,
  top_code.top_code_annual_usd,
  cells.cell_count,
  CAST($2 AS BIGINT) AS value_count,
  CAST($3 AS BIGINT) AS dash_count,
  CAST($4 AS VARCHAR) AS ingested_at
FROM release
CROSS JOIN parsed_file
CROSS JOIN cells
LEFT JOIN top_code ON true
