"""The staging checks beyond the tables' contracts: the known OEWS traps (codes missing from
their lists, a shifted datatype mapping, an empty release, industries outside NAICS 2022,
occupations SOC 2018 does not classify), each a SQL query whose rows are the failures."""

from pipelines.checks import sql_check
from pipelines.sources.soc import SOURCE_TAG_OEWS
from schemas.stg_oews__estimates import WAGE_PAIRS

# BLS rounds annual wages to $10 and hourly to the cent, independently: |h*2080 - a| <= 15.40.
WAGE_PAIR_TOLERANCE_USD = 15.40

_WAGE_GAPS = " OR ".join(
    f"abs({h} * 2080 - {a}) > {WAGE_PAIR_TOLERANCE_USD}" for h, a in WAGE_PAIRS
)

# Industries whose NAICS code (or parent) is not in NAICS 2022, in current releases ({history}
# = NOT IN) or in releases read from the history workbooks ({history} = IN).
_INDUSTRIES_OUTSIDE_NAICS_2022 = """
    SELECT i.release_code, i.industry_code, i.industry_name, i.naics_code, i.naics_parent_code
    FROM stg_oews__industries i
    LEFT JOIN stg_naics__codes n ON n.naics_code = i.naics_code
    LEFT JOIN stg_naics__codes p ON p.naics_code = i.naics_parent_code
    WHERE ((i.naics_code IS NOT NULL AND n.naics_code IS NULL)
           OR (i.naics_parent_code IS NOT NULL AND p.naics_code IS NULL))
      AND i.release_code {history}
          (SELECT release_code FROM raw_oews__files WHERE source_mode = 'xlsx')
"""
_WAGE_GAP_COLUMNS = ", ".join(
    f"round({h} * 2080 - {a}, 2) AS gap_{h.split('_')[2]}" for h, a in WAGE_PAIRS
)

OEWS_TRAP_CHECKS = [
    sql_check(
        "stg_oews__estimates",
        "codes_exist",
        "Every estimate's area, industry and occupation exists in that release's code lists.",
        """
    SELECT e.release_code, e.area_code, e.industry_code, e.occupation_code,
           a.area_code IS NULL AS is_unknown_area,
           i.industry_code IS NULL AS is_unknown_industry,
           o.occupation_code IS NULL AS is_unknown_occupation
    FROM stg_oews__estimates e
    LEFT JOIN stg_oews__areas a USING (release_code, area_code)
    LEFT JOIN stg_oews__industries i USING (release_code, industry_code)
    LEFT JOIN stg_oews__occupations o USING (release_code, occupation_code)
    WHERE a.area_code IS NULL OR i.industry_code IS NULL OR o.occupation_code IS NULL
    """,
        deps=["stg_oews__areas", "stg_oews__industries", "stg_oews__occupations"],
    ),
    sql_check(
        "stg_oews__estimates",
        "hourly_matches_annual",
        f"Hourly wage x 2,080 is within ${WAGE_PAIR_TOLERANCE_USD} of the annual wage (mean and "
        "each percentile) wherever both are published: BLS rounds annual wages to $10 and hourly "
        "to the cent, so a larger gap means a shifted datatype mapping.",
        f"""
    SELECT release_code, area_code, industry_code, occupation_code,
           {_WAGE_GAP_COLUMNS}
    FROM stg_oews__estimates WHERE {_WAGE_GAPS}
    """,
    ),
    sql_check(
        "stg_oews__estimates",
        "national_total_employment_positive",
        "Every release has a national, cross-industry, all-occupations employment above zero.",
        """
    SELECT r.release_code, e.employment_count
    FROM (SELECT DISTINCT release_code FROM stg_oews__estimates) r
    LEFT JOIN stg_oews__estimates e
      ON e.release_code = r.release_code AND e.area_code = '0000000'
     AND e.industry_code = '000000' AND e.occupation_code = '000000'
    WHERE coalesce(e.employment_count, 0) <= 0
    """,
    ),
    sql_check(
        "stg_oews__industries",
        "naics_codes_exist",
        "Every industry of a current release (time series or embedded) mapped to a NAICS code "
        "(or, for OEWS aggregates and ownership variants, to a parent NAICS code) maps to a code "
        "in the NAICS 2022 list: anything else is a mapping error.",
        _INDUSTRIES_OUTSIDE_NAICS_2022.format(history="NOT IN"),
        deps=["stg_naics__codes"],
    ),
    sql_check(
        "stg_oews__industries",
        "history_codes_in_naics_2022",
        "Industries of an earlier release (history workbooks) outside NAICS 2022: an earlier "
        "NAICS vintage (e.g. 2017's 511 Publishing, 2022's 513), listed as industry code "
        "changes in out_profiles__cluster_industry_changes. A warning, not a stop.",
        _INDUSTRIES_OUTSIDE_NAICS_2022.format(history="IN"),
        blocking=False,
        deps=["stg_naics__codes"],
    ),
    sql_check(
        "stg_oews__occupations",
        "detailed_codes_classified",
        "Every OEWS detailed code is a SOC 2018 detailed code, a broad code published as "
        "detailed, or a listed OEWS aggregate (pipelines/oews_soc_alignment.yaml).",
        f"""
    SELECT o.release_code, o.soc_code, o.occupation_name, o.is_oews_aggregate
    FROM stg_oews__occupations o
    LEFT JOIN stg_soc__codes s ON s.soc_code = o.soc_code AND s.soc_level = 'detailed'
    WHERE o.is_detailed AND NOT o.is_broad_as_detailed
      AND (s.soc_code IS NULL) <> o.is_oews_aggregate
      -- offline, the SOC list is derived from OEWS itself and cannot tell aggregates apart
      AND NOT EXISTS (SELECT 1 FROM stg_soc__codes WHERE source = '{SOURCE_TAG_OEWS}')
    """,
        deps=["stg_soc__codes"],
    ),
]
