"""Industry Advisory Group reviewer decisions: a versioned CSV applied after every other layer.

The file has the review sheet's columns, so a filled-in review sheet is the decisions file
unchanged, as the workbook it is returned as (.xlsx) or saved as CSV: rows whose `decision` is
blank (or `keep`) change nothing. The path may also be a folder of such files (one returned
sheet per cluster), read in name order.

    soc_code, occupation_title, cluster, sub_cluster, decision, to_cluster, to_sub_cluster,
    reviewer, date, rationale

decision: `add` (put the occupation in cluster / sub_cluster), `remove` (take it out of
sub_cluster, or of the whole cluster when sub_cluster is blank), `move` (from cluster /
sub_cluster to to_cluster / to_sub_cluster). Every decision needs reviewer, date (YYYY-MM-DD)
and rationale. Validation is strict: any problem is an error naming the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from pipelines.errors import ExplainedError
from pipelines.policy.csv_text import NotUtf8Error, decode_csv

COLUMNS = [
    "soc_code",
    "occupation_title",
    "cluster",
    "sub_cluster",
    "decision",
    "to_cluster",
    "to_sub_cluster",
    "reviewer",
    "date",
    "rationale",
]
DECISIONS = ("add", "remove", "move")
DECISIONS_SCHEMA = {
    "source_file": pl.String,
    "line": pl.Int32,
    "soc_code": pl.String,
    "decision": pl.String,
    "cluster_code": pl.String,
    "sub_cluster_code": pl.String,
    "to_cluster_code": pl.String,
    "to_sub_cluster_code": pl.String,
    "reviewer": pl.String,
    "decided_on": pl.String,
    "rationale": pl.String,
}

# (raw cluster name, raw sub-cluster name or "") -> (cluster_code, sub_cluster_code or None),
# or None when the name is not in the framework.
Resolver = Callable[[str, str], tuple[str, str | None] | None]
# A decisions file's records: (line of a CSV file or row of a workbook, column -> text).
Records = Iterator[tuple[int, dict[str, str]]]


class ReviewError(ExplainedError, ValueError):
    """The reviewer decisions file is invalid; the message names the line and what to do."""


def load_decisions(path: Path, known_socs: set[str], resolve: Resolver) -> pl.DataFrame:
    """Validated decisions, one row per non-blank decision, with framework codes.

    `path` is one CSV file, or a folder whose *.csv files are read in name order (one
    returned review sheet per cluster, say): a decision in one may not conflict with another's.
    """
    rows: list[dict] = []
    seen: dict[tuple, tuple[str, int]] = {}
    files = _folder_files(path) if path.is_dir() else [path]
    for file in files:
        rows += _file_decisions(file, known_socs, resolve, seen)
    return pl.DataFrame(rows, schema=DECISIONS_SCHEMA)


def _folder_files(folder: Path) -> list[Path]:
    """The decisions files of a folder (CSV files and returned review-sheet workbooks), in name
    order: not Office's lock files (~$...) or macOS's metadata files (._...). A folder without
    one is an error: an empty or mistyped folder would otherwise apply no decisions silently."""
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in (".csv", ".xlsx")
        and not p.name.startswith(("~$", "._"))
    )
    stems: dict[str, list[str]] = {}
    for p in files:
        stems.setdefault(p.stem.lower(), []).append(p.name)
    if twins := [names for names in stems.values() if len(names) > 1]:
        raise ReviewError(
            f"[reviewer decisions] the folder {folder} holds the same sheet twice: "
            f"{'; '.join(' and '.join(names) for names in twins)}.\nWhat to do: keep one of "
            "each (the workbook as returned, or the CSV saved from it): both would be applied, "
            "and a decision changed in one would still stand in the other."
        )
    if not files:
        raise ReviewError(
            f"[reviewer decisions] the folder {folder} holds no CSV file or .xlsx review "
            "sheet.\nWhat to do: put the returned review sheets in it (as the .xlsx or .csv "
            "files the reports offer); to apply no decisions, put in one file holding only the "
            "header line."
        )
    return files


def _file_decisions(
    path: Path, known_socs: set[str], resolve: Resolver, seen: dict[tuple, tuple[str, int]]
) -> list[dict]:
    rows: list[dict] = []
    data = _read_bytes(path)
    header, records = (
        workbook_records(path, data)
        if data.startswith(b"PK\x03\x04") or path.suffix.lower() == ".xlsx"
        else _csv_records(path, data)
    )
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        # a spreadsheet set to a European locale saves "CSV" with semicolons
        semicolons = len(header) == 1 and header[0].count(";") >= len(COLUMNS) - 1
        hint = (
            " The file is separated by semicolons, not commas: save it as "
            '"CSV UTF-8 (Comma delimited)", or keep the .xlsx.'
            if semicolons
            else ""
        )
        raise ReviewError(
            f"[reviewer decisions] {path}: missing columns {missing} (found {header}).\n"
            f"What to do: use the review sheet's columns: {', '.join(COLUMNS)}.{hint}"
        )
    for line, row in records:
        decision = row["decision"].lower()
        if decision in ("", "keep"):
            continue
        rows.append(_decision(path, line, row, decision, known_socs, resolve, seen))
    return rows


def _csv_records(path: Path, data: bytes) -> tuple[list[str], Records]:
    """A CSV decisions file's header and records, each with the line it starts on."""
    reader = csv.DictReader(io.StringIO(_decode(path, data), newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]

    def records() -> Records:
        for raw in reader:
            # the line the record starts on: reader.line_num is its last (a quoted field, e.g.
            # a rationale typed with Alt+Enter in Excel, may span lines)
            values = [v if isinstance(v, str) else ",".join(v or []) for v in raw.values()]
            breaks = sum(v.count("\n") + v.count("\r") - v.count("\r\n") for v in values)
            yield (
                reader.line_num - breaks,
                {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k},
            )

    return header, records()


def workbook_records(path: Path, data: bytes) -> tuple[list[str], Records]:
    """A returned review-sheet workbook's header and records, each with its row number: the
    sheet named `review` (the reports' review sheet), else the first. Cells are read as text;
    a date Excel stored as a date reads as YYYY-MM-DD."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a damaged or encrypted file
        raise _fail(
            path,
            f"is not a readable .xlsx workbook ({type(err).__name__}: {err}).",
            "open it in Excel and save it again as .xlsx (without a password), or save it as "
            '"CSV UTF-8 (Comma delimited)".',
        ) from None
    sheet = book["review"] if "review" in book.sheetnames else book.worksheets[0]
    sheet.reset_dimensions()  # a stated size (some writers' A1:J1) would hide the rows
    rows = sheet.iter_rows(values_only=True)
    header = [_cell_text(v).lower() for v in next(rows, ())]

    def records() -> Records:
        for number, values in enumerate(rows, start=2):
            padded = [*values, *[None] * (len(header) - len(values))]
            yield number, {h: _cell_text(v) for h, v in zip(header, padded, strict=False) if h}
        book.close()

    return header, records()


def _cell_text(value: object) -> str:
    """A workbook cell as the CSV would hold it (a date as YYYY-MM-DD, 3.0 as 3)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def place(file_name: str, number: int) -> str:
    """Where a decision is in its file: the line of a CSV file, the row of a workbook."""
    return f"{'row' if file_name.lower().endswith('.xlsx') else 'line'} {number}"


def _fail(path: Path, problem: str, remedy: str) -> ReviewError:
    return ReviewError(f"[reviewer decisions] {path} {problem}\nWhat to do: {remedy}")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _fail(
            path,
            "does not exist.",
            "check CCP_REVIEW_DECISIONS_PATH (or restore pipelines/policy/reviewer_decisions.csv); "
            "to apply no decisions, point it at a file holding only the header line.",
        ) from None


def _decode(path: Path, data: bytes) -> str:
    """A CSV file as text, or an error that says what it is instead (not UTF-8: Excel's plain
    "CSV" on Windows is not)."""
    try:
        return decode_csv(data)
    except NotUtf8Error as err:
        raise _fail(
            path,
            f'is not UTF-8 text ({err}; Excel\'s plain "CSV" format writes Windows-1252).',
            'save it from Excel as "CSV UTF-8 (Comma delimited)" (or from another program as '
            "UTF-8), or keep the review sheet as the .xlsx it came as, and run again.",
        ) from None


def _decision(
    path: Path,
    line: int,
    row: dict[str, str],
    decision: str,
    known_socs: set[str],
    resolve: Resolver,
    seen: dict[tuple, tuple[str, int]],
) -> dict:
    def fail(problem: str, remedy: str) -> ReviewError:
        return ReviewError(
            f"[reviewer decisions] {path}, {place(path.name, line)}: {problem}\n"
            f"What to do: {remedy}"
        )

    if decision not in DECISIONS:
        raise fail(
            f"decision {row['decision']!r} is not one of add, remove, move, keep.",
            "use one of those words, or leave it blank.",
        )
    soc = row["soc_code"]
    if soc not in known_socs:
        raise fail(
            f"SOC code {soc!r} is not an OEWS detailed occupation.",
            "check the code against the occupations table of the report.",
        )
    for field in ("reviewer", "date", "rationale"):
        if not row[field]:
            raise fail(f"{field} is empty.", "every decision needs reviewer, date and rationale.")
    try:  # the date as the review sheet asks for it (fromisoformat alone takes 20260105 too)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]):
            raise ValueError
        dt.date.fromisoformat(row["date"])
    except ValueError:
        raise fail(f"date {row['date']!r} is not a date.", "write it as YYYY-MM-DD.") from None
    source = resolve(row["cluster"], row["sub_cluster"])
    if source is None:
        raise fail(
            f"cluster/sub-cluster {row['cluster']!r} / {row['sub_cluster']!r} is not in "
            "the framework.",
            "copy the names from the report.",
        )
    if decision == "add" and source[1] is None:
        raise fail("an add needs a sub_cluster.", "name the sub-cluster to add it to.")
    target: tuple[str, str | None] = (None, None)  # type: ignore[assignment]
    if decision == "move":
        resolved = resolve(row["to_cluster"], row["to_sub_cluster"])
        if resolved is None or resolved[1] is None:
            raise fail(
                f"move target {row['to_cluster']!r} / {row['to_sub_cluster']!r} is not a "
                "sub-cluster of the framework.",
                "name the target cluster and sub-cluster, as the reports write them: "
                + _target_names(row["to_cluster"], resolve)
                + ".",
            )
        target = resolved
    for key in {(soc, *source), (soc, *target)} - {(soc, None, None)}:
        if key in seen:
            other, other_line = seen[key]
            where = place(other, other_line) + ("" if other == path.name else f" of {other}")
            raise fail(
                f"it conflicts with the decision on {where} for the same occupation and "
                "sub-cluster.",
                "keep one decision per occupation and sub-cluster.",
            )
        seen[key] = (path.name, line)
    return {
        "source_file": path.name,
        "line": line,
        "soc_code": soc,
        "decision": decision,
        "cluster_code": source[0],
        "sub_cluster_code": source[1],
        "to_cluster_code": target[0],
        "to_sub_cluster_code": target[1],
        "reviewer": row["reviewer"],
        "decided_on": row["date"],
        "rationale": row["rationale"],
    }


def _target_names(cluster: str, resolve: Resolver) -> str:
    """What a move's target may be: the named cluster's sub-clusters when the cluster is
    right, else the 14 clusters."""
    from pipelines.framework.definition import load_framework

    framework = load_framework()
    found = resolve(cluster, "") if cluster else None
    for c in framework.clusters:
        if found and c.slug == found[0]:
            return f"{c.name} has " + "; ".join(s.name for s in c.sub_clusters)
    return "the clusters are " + "; ".join(c.name for c in framework.clusters)
