-- stg_oews__files: the OEWS files stg_oews__estimates was actually built from, one row per file.
-- raw_oews__files records every fetch, including one whose data staging then refused; this
-- copy is taken only after the estimates were swapped in, so reports cite the files behind
-- the numbers they show. $1 release code.
SELECT *
FROM raw_oews__files
WHERE release_code = $1
