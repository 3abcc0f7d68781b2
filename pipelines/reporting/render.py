"""Write the reports: one self-contained page per cluster with its downloads, and the index.

Layout of the output folder (per release, so a new release never touches an older one):

    <output_dir>/index.html                     links to every release's reports
    <output_dir>/<release>/index.html           the 14 clusters by Cluster Grouping
    <output_dir>/<release>/<cluster>.html       one report per cluster
    <output_dir>/<release>/plotly.min.js        written once, referenced relatively
    <output_dir>/<release>/static/              report.css, report.js
    <output_dir>/<release>/downloads/<cluster>/ CSVs, one XLSX, the review sheet (CSV + XLSX)

Every file is written to a temporary name and renamed into place, so a failed run leaves the
previous files whole. Output is deterministic: the same warehouse gives the same bytes (the
generated date is the day, or SOURCE_DATE_EPOCH when set).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import secrets
from contextlib import suppress
from pathlib import Path

import jinja2
import plotly
import polars as pl
import xlsxwriter

from pipelines.policy.reviews import COLUMNS as REVIEW_COLUMNS
from pipelines.reporting import charts, state_map
from pipelines.reporting.data import (
    ASSIGNMENT_LAYER_LABELS,
    O_NET_ATTRIBUTION,
    SOURCE_NAMES,
    ClusterData,
    bls_disclaimer,
)
from pipelines.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "reports" / "templates"
STATIC = PROJECT_ROOT / "reports" / "static"
XLSX_EPOCH = dt.datetime(2000, 1, 1)  # fixed workbook timestamps: same data, same bytes


def generated_on() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.date().isoformat()


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value from data is escaped; no data can inject markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        int=charts.fmt_int,
        usd=charts.fmt_usd,
        usd2=lambda v: "—" if v is None else f"${v:,.2f}",
        pct=charts.fmt_pct,
        num=lambda v, d=1: "—" if v is None else f"{v:,.{d}f}",
        sort_value=lambda v: "" if v is None else (f"{v:.6f}" if isinstance(v, float) else v),
        capitalize_first=lambda text: text[:1].upper() + text[1:],
        margin_pct=fmt_margin_pct,
        file_size=fmt_file_size,
    )
    return env


def fmt_margin_pct(value: float | None) -> str:
    """A signed percentage, whole, with more digits as it nears zero, so a shortfall or a
    surplus never reads as "-0%" or "+0.0%"."""
    if value is None:
        return "—"
    if value == 0:
        return "0%"
    for digits in (0, 1, 2):
        if round(abs(value), digits) >= 10**-digits:
            return f"{value:+.{digits}f}%"
    return "-<0.01%" if value < 0 else "+<0.01%"


def fmt_file_size(size: int) -> str:
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    return f"{size / 1024:,.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


class ReportWriteError(RuntimeError):
    """A report file could not be written (disk full, read-only folder); the previous file is
    left as it was."""


def _is_private_leftover(path: Path) -> bool:
    """A file of ours that earlier versions left owner-only (mkstemp's 0600): rewritten, so it
    gets the mode a new file gets. Another user's file, or any other mode, is left alone."""
    info = path.stat()
    return info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o600


def write_bytes(path: Path, data: bytes) -> bool:
    """Atomically replace `path` with `data`; skip when the bytes are already there.

    Reports are for others to read (a shared folder, a web server): the file is created with
    mode 0666, so the kernel applies the umask (0644 under the usual 022), as for any new file,
    not mkstemp's private 0600."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if (
            path.exists()
            and path.stat().st_size == len(data)
            and path.read_bytes() == data
            and not _is_private_leftover(path)
        ):
            return False
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if tmp:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise ReportWriteError(
            f"[reports] could not write {path}: {err.strerror or err}. Each report file is "
            "written to a temporary name and renamed into place, so the previous file is "
            "unchanged.\nWhat to do: free space on the disk that holds the output folder (or "
            "make it writable, or set CCP_OUTPUT_DIR to another folder), then run the "
            "render_reports job again.",
        ) from err
    except BaseException:
        if tmp:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise
    return True


def write_static(release_dir: Path) -> list[Path]:
    """plotly.min.js (from the installed plotly package, once per release folder), CSS, JS."""
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    written = [release_dir / "plotly.min.js"]
    write_bytes(written[0], plotly_js.read_bytes())
    for name in ("report.css", "report.js"):
        written.append(release_dir / "static" / name)
        write_bytes(written[-1], (STATIC / name).read_bytes())
    return written


def _xlsx(sheets: dict[str, pl.DataFrame], *, for_review: bool = False) -> bytes:
    """One workbook, a sheet per frame, with fixed document timestamps; built in memory, so a
    full temporary folder cannot break the reports. `for_review`: the review sheet, where every
    column is text (Excel would turn a typed 2026-12-01 into a date and save it as 12/1/2026,
    which the decisions file rejects) and `decision` offers its words in a drop-down."""
    buffer = io.BytesIO()
    options = {"strings_to_urls": False, "strings_to_formulas": False, "in_memory": True}
    with xlsxwriter.Workbook(buffer, options) as book:
        book.set_properties({"created": XLSX_EPOCH, "title": "career-cluster-profiles"})
        header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        text = book.add_format({"num_format": "@"}) if for_review else None
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name[:31])
            for col, column in enumerate(frame.columns):
                sheet.write_string(0, col, column, header)
                sheet.set_column(col, col, min(60, max(10, len(column) + 2)), text)
            if for_review and "decision" in frame.columns:
                col = frame.columns.index("decision")
                sheet.data_validation(
                    1,
                    col,
                    frame.height + 500,
                    col,
                    {
                        "validate": "list",
                        "source": ["add", "remove", "move", "keep"],
                        "error_type": "warning",
                        "input_title": "decision",
                        "input_message": "add, remove or move (blank or keep: no change)",
                    },
                )
            for row_index, row in enumerate(frame.iter_rows(), start=1):
                for col, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, bool):
                        sheet.write_boolean(row_index, col, value)
                    elif isinstance(value, int | float):
                        sheet.write_number(row_index, col, value)
                    else:
                        sheet.write_string(row_index, col, str(value))
            sheet.freeze_panes(1, 0)
            if frame.width:
                sheet.autofilter(0, 0, frame.height, frame.width - 1)
    return buffer.getvalue()


def review_sheet(data: ClusterData) -> pl.DataFrame:
    """The cluster's occupation x sub-cluster rows in the reviewer-decisions format, with
    context columns after the ten the pipeline reads. The decisions already made for this
    cluster are filled in (and occupations they took out of it are listed with them), so the
    sheet saved as the decisions file keeps them; every other row's decision is left empty."""
    key = ["soc_code", "cluster", "sub_cluster"]
    decided = REVIEW_COLUMNS[4:]
    current = data.assignments.select(
        pl.col("soc_code"),
        pl.col("occupation_name").alias("occupation_title"),
        pl.col("cluster_name").alias("cluster"),
        pl.col("sub_cluster_name").alias("sub_cluster"),
        pl.col("status").alias("context_status"),
        pl.col("employment_count").alias("context_employment_count"),
        pl.col("layer").alias("context_assigned_by"),
        pl.col("is_primary").alias("context_is_primary_cluster"),
        # why it is here ("sub-cluster by default" invites a reviewer's move)
        pl.col("evidence").alias("context_evidence"),
    )
    # the decisions in the order they are applied (file, line): decisions on one occupation
    # can depend on their order, so the sheet keeps it within each occupation
    made = data.sheet_decisions.select(*REVIEW_COLUMNS).with_row_index("applied")
    kept = current.join(made.select(*key, *decided, "applied"), on=key, how="left").with_columns(
        pl.col(decided).fill_null("")
    )
    gone = made.join(current, on=key, how="anti")  # removed or moved out of this cluster
    sheet = (
        pl.concat([kept, gone], how="diagonal_relaxed")
        .sort("soc_code", "applied", "sub_cluster", nulls_last=True)
        .select(*REVIEW_COLUMNS, *current.columns[4:])
    )
    assert sheet.columns[: len(REVIEW_COLUMNS)] == REVIEW_COLUMNS
    return sheet


def downloads(data: ClusterData) -> dict[str, bytes]:
    """File name -> bytes for the cluster's download folder."""
    slug = data.cluster["cluster_code"]
    summary = pl.DataFrame([data.summary])
    industries = pl.concat([data.sectors, data.subsectors]).sort(
        "industry_level", "employment_count", "industry_code", descending=[False, True, False]
    )
    sheet = review_sheet(data)
    tables = {
        "summary": summary,
        "occupations": data.occupations,
        "industries": industries,
        "states": data.states,
        "changes": data.changes,
        "industry-changes": data.industry_changes,
    }
    files = {f"{slug}-{name}.csv": frame.write_csv().encode() for name, frame in tables.items()}
    files[f"{slug}.xlsx"] = _xlsx(tables)
    files[f"{slug}-review-sheet.csv"] = sheet.write_csv().encode()
    files[f"{slug}-review-sheet.xlsx"] = _xlsx({"review": sheet}, for_review=True)
    return files


def render_cluster(
    data: ClusterData,
    policy_summary: list[str],
    generated: str,
    data_fingerprint: str | None = None,
) -> tuple[str, dict[str, bytes]]:
    """The report page and its download files. `data_fingerprint` (freshness.py) goes into the
    page, so a later run can tell whether its figures are still the tables'."""
    slug = data.cluster["cluster_code"]
    threshold_annual = data.threshold_hourly_usd * 2080
    chart_list = [
        charts.sub_cluster_chart(data.sub_cluster_employment),
        charts.industry_chart(data.sectors),
        charts.wage_chart(data.occupations, threshold_annual),
        state_map.state_chart(data.states),
        charts.outlook_chart(data.occupations, data.projection),
    ]
    files = downloads(data)
    links = [(name, f"downloads/{slug}/{name}", len(blob)) for name, blob in files.items()]
    page = (
        environment()
        .get_template("cluster.html.j2")
        .render(
            d=data,
            s=data.summary,
            c=data.cluster,
            charts={chart.chart_id: chart for chart in chart_list},
            policy_summary=policy_summary,
            used=data.used,
            layer_labels=ASSIGNMENT_LAYER_LABELS,
            own_layer_labels=[ASSIGNMENT_LAYER_LABELS.get(x, x) for x in data.layers["layer"]],
            source_names=SOURCE_NAMES,
            generated=generated,
            downloads=links,
            subsectors=data.subsectors.head(25).to_dicts(),
            occupations=data.occupations.to_dicts(),
            onet_attribution=O_NET_ATTRIBUTION if data.used.uses_onet else None,
            bls_disclaimer=bls_disclaimer(data.projection is not None),
            threshold_annual=threshold_annual,
            data_fingerprint=data_fingerprint,
        )
    )
    return page, files


def write_cluster(
    release_dir: Path,
    data: ClusterData,
    policy_summary: list[str],
    data_fingerprint: str | None = None,
) -> dict[str, int]:
    """Write one cluster's page and downloads; returns file name -> bytes written."""
    slug = data.cluster["cluster_code"]
    page, files = render_cluster(data, policy_summary, generated_on(), data_fingerprint)
    sizes = {}
    folder = release_dir / "downloads" / slug
    for name, blob in files.items():
        write_bytes(folder / name, blob)
        sizes[name] = len(blob)
    body = page.encode()
    write_bytes(release_dir / f"{slug}.html", body)  # the page last: its links exist by then
    sizes[f"{slug}.html"] = len(body)
    return sizes


def write_index(
    output_dir: Path,
    release: dict,
    summary: pl.DataFrame,
    policy_summary: list[str],
    out_of_date: list[str] | None = None,
) -> Path:
    """The release's index (clusters by grouping) and the top-level list of releases.
    `out_of_date`: clusters whose report shows figures the tables (and this page) no longer
    hold, marked as such."""
    env = environment()
    release_dir = output_dir / release["release_code"]
    groupings: dict[str, list[dict]] = {}
    for row in summary.iter_rows(named=True):
        groupings.setdefault(row["grouping_name"], []).append(row)
    page = env.get_template("index.html.j2").render(
        release=release,
        groupings=groupings,
        policy_summary=policy_summary,
        generated=generated_on(),
        bls_disclaimer=bls_disclaimer(release["has_projections"]),
        reports_present={p.stem for p in release_dir.glob("*.html")},
        reports_out_of_date=set(out_of_date or ()),
        used=release["used"],
        onet_attribution=O_NET_ATTRIBUTION if release["used"].uses_onet else None,
    )
    path = release_dir / "index.html"
    write_bytes(path, page.encode())
    releases = sorted(
        (p.name for p in output_dir.iterdir() if (p / "index.html").exists()), reverse=True
    )
    top = env.get_template("releases.html.j2").render(releases=releases, generated=generated_on())
    write_bytes(output_dir / "index.html", top.encode())
    return path
