"""SOC 2018 code list: from the BLS structure workbook or from the OEWS occupation list.

Both readers return the same frame (see `SOC_SCHEMA`), sorted by `soc_code` (as text, which
is also the order of the BLS structure file: every group directly followed by its members).

SOC 2018 code rules (checked against all 1,447 codes of soc_structure_2018.xlsx):

* level from the code: major `XX-0000`; minor `XX-XX00` (not major); broad `XX-XXX0` (not
  minor); detailed: last digit not 0.
* parents: major = `XX-0000`. The minor group is normally `XX-X000` (`11-1000`,
  `29-1000`), but three minor groups use `XX-XX00` and hold only the codes starting with
  those five characters: `15-1200` Computer Occupations, `31-1100` Home Health and Personal
  Care Aides; and Nursing Assistants, Orderlies, and Psychiatric Aides, `51-5100` Printing
  Workers. The broad group is normally `XX-XXX0`, except that broad group `29-1210`
  Physicians holds `29-1211`...`29-1229` (there is no `29-1220`).

OEWS publishes 7 broad groups as if they were detailed occupations (13-1020, 13-2020,
29-2010, 31-1120, 39-7010, 47-4090, 51-2090): they keep `soc_level` "broad" and get
`is_broad_as_detailed` = True. OEWS also has a few aggregates of SOC detailed occupations
that are not SOC 2018 codes (21-1018, 25-2052, 25-9045, 51-2028, 53-1047); their level and
parents follow the same code rules.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import polars as pl

from pipelines.sources.files import SourceError
from pipelines.sources.naics import describe_sheets, find_header, norm_header, read_xlsx_sheets

log = logging.getLogger(__name__)

SOC_STRUCTURE_SOURCE = "SOC 2018 structure"
OEWS_SOURCE = "OEWS occupation list"
# Values of the `source` column: which list the rows came from.
SOURCE_TAG_STRUCTURE = "soc_structure_2018.xlsx"
SOURCE_TAG_OEWS = "oews"
SOC_SCHEMA: dict[str, pl.DataType] = {
    "soc_code": pl.String(),
    "soc_title": pl.String(),
    "soc_level": pl.String(),
    "major_code": pl.String(),
    "minor_code": pl.String(),
    "broad_code": pl.String(),
    "is_broad_as_detailed": pl.Boolean(),
    "source": pl.String(),
}
SOC_LEVELS = ("major", "minor", "broad", "detailed")
EXPECTED_LEVEL_COUNTS = {"major": 23, "minor": 98, "broad": 459, "detailed": 867}
STRUCTURE_SHEET = "2018 Structure"
STRUCTURE_COLUMNS = {
    "major": "Major Group",
    "minor": "Minor Group",
    "broad": "Broad Group",
    "detailed": "Detailed Occupation",
}
# SOC 2018 exceptions to the plain code patterns (see module docstring).
MINOR_GROUPS_XX_XX00 = frozenset({"15-1200", "31-1100", "51-5100"})
BROAD_GROUP_EXCEPTIONS = {"29-122": "29-1210"}  # 29-1221..29-1229 are Physicians (29-1210)
OEWS_BROAD_AS_DETAILED = frozenset(
    {"13-1020", "13-2020", "29-2010", "31-1120", "39-7010", "47-4090", "51-2090"}
)

STRUCTURE_REMEDY = (
    "Download the 2018 SOC structure again from BLS "
    "(https://www.bls.gov/soc/2018/soc_structure_2018.xlsx, linked from "
    "https://www.bls.gov/soc/2018/home.htm), save it unchanged and point CCP_SOC_LOCAL_PATH at it."
)
OEWS_REMEDY = (
    "Build the frame from the OEWS occupation code list (oe.occupation: occupation_code as "
    "6 digits such as '151252', occupation_name, display_level 0-3)."
)
_SOC_CODE_RE = re.compile(r"\d{2}-\d{4}")


def soc_level(code: str) -> str:
    """'major' | 'minor' | 'broad' | 'detailed' from a hyphenated SOC code, by pattern."""
    digits = code[3:]
    if digits == "0000":
        return "major"
    if digits.endswith("00"):
        return "minor"
    if digits.endswith("0"):
        return "broad"
    return "detailed"


def soc_parents(code: str, level: str | None = None) -> tuple[str | None, str | None, str | None]:
    """(major, minor, broad) parents of a hyphenated SOC 2018 code; None where not applicable.

    >>> soc_parents("15-1252")
    ('15-0000', '15-1200', '15-1250')
    """
    level = level or soc_level(code)
    rank = SOC_LEVELS.index(level)
    major = f"{code[:2]}-0000" if rank >= 1 else None
    minor = None
    if rank >= 2:
        minor = f"{code[:5]}00" if f"{code[:5]}00" in MINOR_GROUPS_XX_XX00 else f"{code[:4]}000"
    broad = BROAD_GROUP_EXCEPTIONS.get(code[:6], f"{code[:6]}0") if rank >= 3 else None
    return major, minor, broad


def _frame(rows: list[dict], source: str) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=SOC_SCHEMA)
        .with_columns(pl.lit(source, dtype=pl.String).alias("source"))
        .sort("soc_code")
    )


def _check_duplicates(codes: list[tuple[str, str]], where: str, source: str, remedy: str) -> None:
    """codes: (code, location) pairs; raise when a code appears more than once."""
    seen: dict[str, list[str]] = {}
    for code, at in codes:
        seen.setdefault(code, []).append(at)
    dups = {c: ats for c, ats in seen.items() if len(ats) > 1}
    if dups:
        shown = "; ".join(f"{c} ({', '.join(ats)})" for c, ats in list(dups.items())[:10])
        raise SourceError(
            source,
            f"{where}: {len(dups)} SOC code(s) appear more than once: {shown}",
            f"Each code must appear once; the list looks edited or concatenated. {remedy}",
        )


def soc_from_structure_xlsx(path: Path) -> pl.DataFrame:
    """BLS `soc_structure_2018.xlsx`: sheet '2018 Structure', a banner, then a header row
    (found by content) `Major Group`, `Minor Group`, `Broad Group`, `Detailed Occupation` and
    an unnamed title column; each code sits in its level's column.

    Parents come from the file's nesting (each code belongs to the groups above it); a
    warning is logged where that differs from `soc_parents` (the SOC 2018 code rules).
    """
    path = Path(path)
    source, remedy = SOC_STRUCTURE_SOURCE, STRUCTURE_REMEDY
    sheets = read_xlsx_sheets(path, source=source, remedy=remedy)
    by_name = {norm_header(name): name for name in sheets}
    sheet = by_name.get(norm_header(STRUCTURE_SHEET))
    if sheet is None:
        raise SourceError(
            source,
            f"{path} has no sheet {STRUCTURE_SHEET!r}; sheets found: {describe_sheets(sheets)}",
            f"Check that this is the SOC 2018 structure workbook. {remedy}",
        )
    match = find_header(
        {sheet: sheets[sheet]},
        {"SOC 2018 structure": STRUCTURE_COLUMNS},
        path=path,
        source=source,
        remedy=remedy,
    )
    df = sheets[sheet]
    level_cols = [match.columns[level] for level in SOC_LEVELS]
    where = f"{path} (sheet {sheet!r})"

    # The title column: unnamed (or named "...title...") and not one of the code columns.
    candidates = [
        j
        for j, head in enumerate(match.header)
        if j not in level_cols and (not norm_header(head) or "title" in norm_header(head))
    ]
    below = df.slice(match.row + 1)
    title_col = next((j for j in candidates if below.to_series(j).drop_nulls().len() > 0), None)
    if title_col is None:
        raise SourceError(
            source,
            f"{where}: header row {match.row + 1} has no title column (an unnamed column "
            "or one named like 'Title' beside the four code columns holding the titles); "
            f"found: {', '.join(repr(h) for h in match.header)}",
            f"A column was removed or the titles are missing. {remedy}",
        )

    rows: list[dict] = []
    located: list[tuple[str, str]] = []
    problems: list[str] = []
    current: list[str | None] = [None] * 4
    for i, row in enumerate(below.iter_rows(), start=match.row + 2):
        cells = [(row[j] or "").strip() for j in level_cols]
        title = (row[title_col] or "").strip()
        filled = [k for k, c in enumerate(cells) if c]
        if not filled:
            if title:
                problems.append(f"row {i}: title {title!r} without a code")
            continue
        if len(filled) > 1:
            problems.append(f"row {i}: codes in more than one level column: {cells}")
            continue
        rank = filled[0]
        code, level = cells[rank], SOC_LEVELS[rank]
        if not _SOC_CODE_RE.fullmatch(code):
            problems.append(
                f"row {i}: {code!r} in column {STRUCTURE_COLUMNS[level]!r} is not a SOC code"
            )
            continue
        if soc_level(code) != level:
            problems.append(
                f"row {i}: {code} is in column {STRUCTURE_COLUMNS[level]!r} but its "
                f"pattern makes it a {soc_level(code)} code"
            )
            continue
        if not title:
            problems.append(f"row {i}: {code} has no title")
            continue
        current[rank:] = [code, None, None, None][: 4 - rank]
        parents = tuple(current[k] if k < rank else None for k in range(3))
        if parents != soc_parents(code, level):
            log.warning(
                "%s row %d: %s sits under %s in the file, the SOC 2018 code rules give %s",
                where, i, code, parents, soc_parents(code, level),
            )  # fmt: skip
        rows.append(
            {
                "soc_code": code,
                "soc_title": title,
                "soc_level": level,
                "major_code": parents[0],
                "minor_code": parents[1],
                "broad_code": parents[2],
                "is_broad_as_detailed": False,
            }
        )
        located.append((code, f"row {i}"))
    if problems:
        raise SourceError(
            source,
            f"{where}: {len(problems)} row(s) below the header are not SOC code rows: "
            f"{'; '.join(problems[:10])}",
            f"Remove notes or stray cells below the header, or fetch an unmodified copy. {remedy}",
        )
    if not rows:
        raise SourceError(source, f"{where}: no SOC codes below the header row", remedy)
    _check_duplicates(located, where, source, remedy)
    counts = {level: sum(r["soc_level"] == level for r in rows) for level in SOC_LEVELS}
    if counts != EXPECTED_LEVEL_COUNTS:
        log.warning(
            "%s: SOC level counts %s differ from SOC 2018 %s - another vintage or an "
            "incomplete file?",
            where, counts, EXPECTED_LEVEL_COUNTS,
        )  # fmt: skip
    return _frame(rows, SOURCE_TAG_STRUCTURE)


def soc_from_oews_occupations(df: pl.DataFrame) -> pl.DataFrame:
    """The SOC frame from the OEWS occupation list (`occupation_code` 6 digits such as
    '151252' - hyphenated codes are accepted too -, `occupation_name`, `display_level`).

    Level and parents come from the code (`soc_level`, `soc_parents`), not from
    display_level, which OEWS uses for indentation (e.g. a broad group that is the only
    member of its minor group is shown at level 1). A broad code shown at display_level 3
    keeps level "broad" with `is_broad_as_detailed` True. The total 000000 is skipped.
    """
    source, remedy = OEWS_SOURCE, OEWS_REMEDY
    required = ["occupation_code", "occupation_name", "display_level"]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SourceError(
            source,
            f"the OEWS occupation frame has no column(s) {missing}; expected {required}, "
            f"found {df.columns}",
            f"A column was renamed or dropped upstream. {remedy}",
        )
    problems: list[str] = []
    rows: list[dict] = []
    located: list[tuple[str, str]] = []
    for i, (raw_code, raw_name, raw_level) in enumerate(df.select(required).iter_rows(), start=1):
        text = str(raw_code or "").strip()
        digits = text.replace("-", "") if _SOC_CODE_RE.fullmatch(text) else text
        name = str(raw_name or "").strip()
        if not re.fullmatch(r"\d{6}", digits):
            problems.append(f"row {i}: occupation_code {raw_code!r} is not a 6-digit SOC code")
            continue
        if digits == "000000":
            continue
        try:
            display = int(str(raw_level).strip())
        except ValueError:
            problems.append(f"row {i}: display_level {raw_level!r} of {digits} is not a number")
            continue
        if not name:
            problems.append(f"row {i}: {digits} has no occupation_name")
            continue
        code = f"{digits[:2]}-{digits[2:]}"
        level = soc_level(code)
        major, minor, broad = soc_parents(code, level)
        rows.append(
            {
                "soc_code": code,
                "soc_title": name,
                "soc_level": level,
                "major_code": major,
                "minor_code": minor,
                "broad_code": broad,
                "is_broad_as_detailed": level == "broad" and display == 3,
            }
        )
        located.append((code, f"row {i}"))
    if problems:
        raise SourceError(
            source,
            f"{len(problems)} row(s) of the OEWS occupation frame are unusable: "
            f"{'; '.join(problems[:10])}",
            remedy,
        )
    if not rows:
        raise SourceError(source, "the OEWS occupation frame holds no occupations", remedy)
    _check_duplicates(located, "the OEWS occupation frame", source, remedy)
    odd = sorted(
        r["soc_code"]
        for r in rows
        if r["is_broad_as_detailed"] and r["soc_code"] not in OEWS_BROAD_AS_DETAILED
    )
    if odd:
        log.warning("OEWS shows broad group(s) %s as detailed occupations (new?)", odd)
    return _frame(rows, SOURCE_TAG_OEWS)
