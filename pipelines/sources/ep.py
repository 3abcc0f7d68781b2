"""BLS Employment Projections: occupational projections and worker characteristics.

Reads sheet "Table 1.2" of https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx: one row
per National Employment Matrix occupation (`Line item`, 832 in the 2024-34 file) or
aggregate (`Summary`, 281, incl. `00-0000` Total, all occupations), with base- and
projection-year employment (thousands), change, self-employment share, annual openings,
the OEWS median wage and the three BLS education and training categories.

Why it is parsed the way it is:

* The headers carry the projection period (`Employment, 2024`, `Employment change,
  numeric, 2024–34` with an en dash, `Median annual wage, dollars, 2024[1]` with a
  footnote marker). Columns are matched by pattern after normalising dashes and dropping
  footnote markers, and the base/projection years come from the headers, so next year's
  file (2025–35, perhaps with a hyphen) loads without code changes.
* Every cell is read as text (`read_xlsx_sheets`): the category value `None` ("no work
  experience / no on-the-job training needed") must stay the string "None", and numbers are
  parsed from their shortest round-trip text, so no value is rounded or changed.
* `—` (em dash) means "unavailable" and becomes null. The wage column also holds the top
  code `>=$239,200` (OEWS does not publish higher medians): the number is parsed from that
  text and `is_median_wage_top_coded` is set.
* Category values are checked against the sets found in the 2024-34 file, because the skill
  tiers in pipelines/policy/qualification.yaml map these exact strings: a renamed category
  would otherwise silently move occupations between tiers.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipelines.sources.files import SourceError
from pipelines.sources.naics import describe_sheets, norm_header, read_xlsx_sheets

log = logging.getLogger(__name__)

EP_SOURCE = "ep (occupation.xlsx)"
EP_SHEET = "Table 1.2"
EP_URL = "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
EP_REMEDY = (
    "Run again if it was downloaded (a refused download is set aside and fetched again), or "
    "download the workbook yourself (BLS Employment Projections, 'Occupational projections "
    f"and worker characteristics': CCP_EP_URL, by default {EP_URL}), save it unchanged as "
    ".xlsx and point CCP_EP_LOCAL_PATH at it."
)
EP_SCHEMA: dict[str, pl.DataType] = {
    "soc_code": pl.String(),
    "ep_title": pl.String(),
    "occupation_type": pl.String(),
    "base_year": pl.Int16(),
    "projection_year": pl.Int16(),
    "employment_base_thousands": pl.Float64(),
    "employment_projected_thousands": pl.Float64(),
    "employment_change_thousands": pl.Float64(),
    "employment_change_pct": pl.Float64(),
    "self_employed_pct": pl.Float64(),
    "openings_annual_thousands": pl.Float64(),
    "median_wage_annual_usd": pl.Float64(),
    "is_median_wage_top_coded": pl.Boolean(),
    "typical_education": pl.String(),
    "work_experience": pl.String(),
    "typical_ojt": pl.String(),
}
OCCUPATION_TYPES = ("Line item", "Summary")
# Category names used by the 2024-34 file (https://www.bls.gov/emp/documentation/education/).
EDUCATION_CATEGORIES: tuple[str, ...] = (
    "Doctoral or professional degree",
    "Master's degree",
    "Bachelor's degree",
    "Associate's degree",
    "Postsecondary nondegree award",
    "Some college, no degree",
    "High school diploma or equivalent",
    "No formal educational credential",
)
EXPERIENCE_CATEGORIES: tuple[str, ...] = ("5 years or more", "Less than 5 years", "None")
OJT_CATEGORIES: tuple[str, ...] = (
    "Internship/residency",
    "Apprenticeship",
    "Long-term on-the-job training",
    "Moderate-term on-the-job training",
    "Short-term on-the-job training",
    "None",
)
UNAVAILABLE = "—"  # em dash, BLS "data is unavailable"

_HEADER_SCAN_ROWS = 20
_MIN_HEADER_HITS = 4  # a row matching this many column patterns is taken as the header
# role -> expected header; YYYY stands for a year, YYYY–YY for the projection period
_COLUMNS: dict[str, str] = {
    "title": "YYYY National Employment Matrix title",
    "code": "YYYY National Employment Matrix code",
    "type": "Occupation type",
    "employment": "Employment, YYYY",  # twice: base and projection year
    "change": "Employment change, numeric, YYYY–YY",
    "change_pct": "Employment change, percent, YYYY–YY",
    "self_employed": "Percent self employed, YYYY",
    "openings": "Occupational openings, YYYY–YY annual average",
    "wage": "Median annual wage, dollars, YYYY",
    "education": "Typical education needed for entry",
    "experience": "Work experience in a related occupation",
    "ojt": "Typical on-the-job training needed to attain competency in the occupation",
}
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")  # hyphen/en/em dashes, minus sign -> "-"
_FOOTNOTE = re.compile(r"\s*\[[^\]]*\]|\*+$")  # "[1]", "[a]", trailing "*"
_SOC_RE = re.compile(r"\d{2}-\d{4}")
_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TOP_CODED_RE = re.compile(r"(?:>=|≥|>)\s*\$?\s*([\d,]+(?:\.\d+)?)\+?")


def _norm(value: object) -> str:
    """Header text compared ignoring case, spacing, dash style and footnote markers."""
    return _FOOTNOTE.sub("", _DASHES.sub("-", norm_header(value))).strip()


def _pattern(expected: str) -> re.Pattern[str]:
    """Regex for a normalised header: YYYY -> a 4-digit year, YYYY-YY -> start and end year."""
    text = re.escape(_norm(expected))
    period = re.escape("yyyy-yy")
    return re.compile(text.replace(period, r"(\d{4})-(\d{2}|\d{4})").replace("yyyy", r"(\d{4})"))


_PATTERNS = {role: _pattern(expected) for role, expected in _COLUMNS.items()}


def _full_year(start: int, end: str) -> int:
    """'2024', '34' -> 2034; '2024', '2034' -> 2034 (two-digit ends roll over centuries)."""
    if len(end) == 4:
        return int(end)
    year = start // 100 * 100 + int(end)
    return year + 100 if year < start else year


def _fail(path: Path, problem: str, remedy: str = EP_REMEDY) -> SourceError:
    return SourceError(EP_SOURCE, f"{path}: {problem}", remedy)


def _match_header(
    df: pl.DataFrame, path: Path
) -> tuple[int, dict[str, list[tuple[int, re.Match[str]]]]]:
    """The header row (0-based) found by content in the first rows, with role -> matches."""
    best: tuple[int, dict[str, list[tuple[int, re.Match[str]]]]] | None = None
    for i, row in enumerate(df.head(_HEADER_SCAN_ROWS).iter_rows()):
        hits: dict[str, list[tuple[int, re.Match[str]]]] = {}
        for j, cell in enumerate(row):
            text = _norm(cell)
            for role, pattern in _PATTERNS.items():
                if m := pattern.fullmatch(text):
                    hits.setdefault(role, []).append((j, m))
        if len(hits) >= _MIN_HEADER_HITS and (best is None or len(hits) > len(best[1])):
            best = (i, hits)
    if best is None:
        raise _fail(
            path,
            f"sheet {EP_SHEET!r} has no header row in its first {_HEADER_SCAN_ROWS} rows (a "
            f"row with columns such as {_COLUMNS['code']!r}, {_COLUMNS['type']!r}, "
            f"{_COLUMNS['employment']!r}). Seen: {describe_sheets({EP_SHEET: df})}",
            f"Check that this is the Employment Projections occupation workbook. {EP_REMEDY}",
        )
    i, hits = best
    missing = [_COLUMNS[role] for role in _COLUMNS if role not in hits]
    if "employment" in hits and len(hits["employment"]) != 2:
        missing.append(f"{_COLUMNS['employment']} (exactly twice: base and projection year)")
    ambiguous = [_COLUMNS[r] for r, ms in hits.items() if r != "employment" and len(ms) > 1]
    if missing or ambiguous:
        found = [str(c).strip() for c in df.row(i) if c is not None and str(c).strip()]
        problem = "; ".join(
            part
            for part in (
                f"no column matching {' / '.join(map(repr, missing))}" if missing else "",
                f"more than one column matching {' / '.join(map(repr, ambiguous))}"
                if ambiguous
                else "",
            )
            if part
        )
        raise _fail(
            path,
            f"sheet {EP_SHEET!r} row {i + 1} is the header but has {problem} (compared "
            "ignoring case, spacing, dash style and footnote markers like [1]). Expected: "
            f"{', '.join(map(repr, _COLUMNS.values()))}; found: "
            f"{', '.join(map(repr, found))}",
            "A column was renamed or removed. If BLS changed the layout, update the column "
            f"patterns in pipelines/sources/ep.py; otherwise fetch an unmodified copy. {EP_REMEDY}",
        )
    return i, hits


def _years(
    hits: dict[str, list[tuple[int, re.Match[str]]]], headers: Sequence[object], path: Path
) -> tuple[int, int]:
    """(base, projection) year from the two `Employment, YYYY` headers.

    The period headers (change, openings) must cover the same years: a mismatch means a
    hand-edited or spliced header, and the rows would be labelled with the wrong period.
    """
    base, proj = sorted(int(m.group(1)) for _, m in hits["employment"])
    bad = []
    for role in ("change", "change_pct", "openings"):
        (j, m), *_ = hits[role]
        start = int(m.group(1))
        if (start, _full_year(start, m.group(2))) != (base, proj):
            bad.append(repr(headers[j]))
    if base == proj or bad:
        raise _fail(
            path,
            f"the header years disagree: employment columns say {base}–{proj}, but "
            f"{', '.join(bad) or 'both employment columns have the same year'}",
            f"The header looks edited; fetch an unmodified copy. {EP_REMEDY}",
        )
    for role in ("self_employed", "wage"):
        (j, m), *_ = hits[role]
        if int(m.group(1)) != base:
            log.warning("%s: column %r is for %s, base year is %d", path, headers[j], m[1], base)
    return base, proj


def _number(
    text: str | None, *, optional: bool, top_coded: bool = False
) -> tuple[float | None, bool]:
    """(value, is top-coded) from a cell's text; ValueError when it is not a number.

    `optional`: `—` gives None. `top_coded`: `>=$239,200` gives (239200.0, True) - the bound
    is read from the text, so a new top code needs no code change. Thousands separators are
    allowed; the number is otherwise parsed exactly as written.
    """
    value = (text or "").strip()
    if optional and value == UNAVAILABLE:
        return None, False
    compact = value.replace(",", "").replace(" ", "")
    if _NUMBER_RE.fullmatch(compact):
        return float(compact), False
    if top_coded and (m := _TOP_CODED_RE.fullmatch(value)):
        return float(m.group(1).replace(",", "")), True
    raise ValueError(value)


def _check_categories(rows: Sequence[dict[str, object]], path: Path) -> None:
    """Raise when a line item has a category value outside the known sets."""
    known = {
        "typical_education": EDUCATION_CATEGORIES,
        "work_experience": EXPERIENCE_CATEGORIES,
        "typical_ojt": OJT_CATEGORIES,
    }
    unknown: dict[str, dict[object, list[str]]] = {}
    for row in rows:
        if row["occupation_type"] != "Line item":
            continue
        for col, allowed in known.items():
            if row[col] is not None and row[col] not in allowed:
                unknown.setdefault(col, {}).setdefault(row[col], []).append(str(row["soc_code"]))
    if unknown:
        shown = "; ".join(
            f"{col}: "
            + ", ".join(
                f"{v!r} ({len(c)} row(s), e.g. {', '.join(c[:3])})" for v, c in vals.items()
            )
            for col, vals in unknown.items()
        )
        raise _fail(
            path,
            f"unknown category value(s) in line items: {shown}. Known values: education "
            f"{list(EDUCATION_CATEGORIES)}; experience {list(EXPERIENCE_CATEGORIES)}; "
            f"on-the-job training {list(OJT_CATEGORIES)}",
            "BLS renamed or added a category. Add it to EDUCATION_CATEGORIES / "
            "EXPERIENCE_CATEGORIES / OJT_CATEGORIES in pipelines/sources/ep.py and update the "
            "policy mapping (skill_tier.ep in pipelines/policy/qualification.yaml) so the "
            "skill tiers stay right; if the value is a typo, fetch an unmodified copy.",
        )


def ep_occupations_from_xlsx(path: Path) -> pl.DataFrame:
    """All `Line item` and `Summary` rows of Table 1.2, in file order (see `EP_SCHEMA`).

    `soc_code` is the matrix code as published (hyphenated, `00-0000` for the total);
    `ep_title` is stripped of the hierarchy indent; employment and openings are in
    thousands. Null only where the file shows `—`: `self_employed_pct`,
    `median_wage_annual_usd` and the three category columns (summary rows).
    """
    path = Path(path)
    sheets = read_xlsx_sheets(path, source=EP_SOURCE, remedy=EP_REMEDY)
    sheet = {norm_header(name): name for name in sheets}.get(norm_header(EP_SHEET))
    if sheet is None:
        raise _fail(
            path,
            f"no sheet {EP_SHEET!r}; sheets found: {describe_sheets(sheets)}",
            f"Check that this is the Employment Projections occupation workbook. {EP_REMEDY}",
        )
    df = sheets[sheet]
    header_row, hits = _match_header(df, path)
    headers = df.row(header_row)
    base, proj = _years(hits, headers, path)
    col = {role: ms[0][0] for role, ms in hits.items()}
    emp_base, emp_proj = (j for j, _ in sorted(hits["employment"], key=lambda h: int(h[1][1])))
    numeric = {
        "employment_base_thousands": (emp_base, False),
        "employment_projected_thousands": (emp_proj, False),
        "employment_change_thousands": (col["change"], False),
        "employment_change_pct": (col["change_pct"], False),
        "self_employed_pct": (col["self_employed"], True),
        "openings_annual_thousands": (col["openings"], False),
    }
    categories = {
        "typical_education": col["education"],
        "work_experience": col["experience"],
        "typical_ojt": col["ojt"],
    }

    rows: list[dict[str, object]] = []
    problems: list[str] = []
    for n, cells in enumerate(df.iter_rows(), start=1):
        if n <= header_row + 1:
            continue
        code = (cells[col["code"]] or "").strip()
        kind = (cells[col["type"]] or "").strip()
        if not code and not kind:
            # blank, footnote and source rows hold text in the first column only; anything
            # more is a data row that lost its code and would otherwise vanish silently
            if any(c is not None and c.strip() for k, c in enumerate(cells) if k != col["title"]):
                problems.append(f"row {n}: values but no matrix code and occupation type")
            continue
        where = f"row {n} ({code or 'no code'})"
        if not _SOC_RE.fullmatch(code):
            problems.append(f"{where}: code {code!r} is not an NN-NNNN matrix code")
            continue
        if kind not in OCCUPATION_TYPES:
            problems.append(f"{where}: occupation type {kind!r} is not one of {OCCUPATION_TYPES}")
            continue
        title = (cells[col["title"]] or "").strip()
        if not title:
            problems.append(f"{where}: empty title")
        row: dict[str, object] = {
            "soc_code": code,
            "ep_title": title,
            "occupation_type": kind,
            "base_year": base,
            "projection_year": proj,
        }
        for name, (j, optional) in numeric.items():
            try:
                row[name] = _number(cells[j], optional=optional)[0]
            except ValueError:
                problems.append(f"{where}, column {headers[j]!r}: {cells[j]!r} is not a number")
        try:
            wage, top = _number(cells[col["wage"]], optional=True, top_coded=True)
            row["median_wage_annual_usd"], row["is_median_wage_top_coded"] = wage, top
        except ValueError:
            problems.append(
                f"{where}, column {headers[col['wage']]!r}: {cells[col['wage']]!r} is not a "
                "wage (a number, '>=$N' for the top code, or '—')"
            )
        for name, j in categories.items():
            value = (cells[j] or "").strip()
            if not value:
                expected = "a category, 'None' or '—'"
                problems.append(f"{where}, column {headers[j]!r}: empty cell (expected {expected})")
            row[name] = None if value == UNAVAILABLE else value
        rows.append(row)

    if problems:
        raise _fail(
            path,
            f"{len(problems)} problem(s) in the rows of sheet {EP_SHEET!r}: "
            f"{'; '.join(problems[:10])}{' ...' if len(problems) > 10 else ''}",
            f"The file looks edited or damaged; fetch an unmodified copy. {EP_REMEDY}",
        )
    line_items = [r["soc_code"] for r in rows if r["occupation_type"] == "Line item"]
    if not line_items:
        raise _fail(
            path,
            f"sheet {EP_SHEET!r} has no 'Line item' rows below the header (row "
            f"{header_row + 1}; {len(rows)} summary rows)",
            f"Check that this is the full occupation workbook. {EP_REMEDY}",
        )
    dups = sorted(str(c) for c, k in Counter(line_items).items() if k > 1)
    if dups:
        raise _fail(
            path,
            f"{len(dups)} matrix code(s) appear on more than one line item: {', '.join(dups[:10])}",
            f"Each occupation must appear once; the file looks edited. {EP_REMEDY}",
        )
    _check_categories(rows, path)
    log.info(
        "%s: %d line items, %d summary rows, %d-%d",
        path, len(line_items), len(rows) - len(line_items), base, proj,
    )  # fmt: skip
    return pl.DataFrame(rows, schema=EP_SCHEMA)
