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
import os
import secrets
from contextlib import suppress
from pathlib import Path

import jinja2
import plotly
import polars as pl

from pipelines.errors import ExplainedError
from pipelines.policy.reviews import place
from pipelines.reporting import charts, state_map
from pipelines.reporting.data import (
    ASSIGNMENT_LAYER_LABELS,
    SOURCE_NAMES,
    ClusterData,
    bls_disclaimer,
)
from pipelines.reporting.downloads import download_links, download_tables, downloads
from pipelines.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "reports" / "templates"
STATIC = PROJECT_ROOT / "reports" / "static"


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
        usd2=charts.fmt_usd2,
        pct=charts.fmt_pct,
        num=lambda v, d=1: "—" if v is None else f"{v:,.{d}f}",
        sort_value=lambda v: "" if v is None else (f"{v:.6f}" if isinstance(v, float) else v),
        capitalize_first=lambda text: text[:1].upper() + text[1:],
        margin_pct=fmt_margin_pct,
        file_size=fmt_file_size,
        when=fmt_when,
        place=lambda file_name, number: place(file_name or "", number),  # line, or row
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


def fmt_when(value: object) -> str:
    """A retrieval time as a reader reads it: '2026-12-05 05:05 UTC' for a recorded UTC
    timestamp; a date, or anything else, as recorded; '—' for none."""
    text = "" if value is None else str(value)
    if "T" in text and text.endswith("+00:00"):
        return text[:16].replace("T", " ") + " UTC"
    return text or "—"


def fmt_file_size(size: int) -> str:
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    return f"{size / 1024:,.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


class ReportWriteError(ExplainedError, RuntimeError):
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


def render_cluster(
    data: ClusterData,
    policy_summary: list[str],
    generated: str,
    data_fingerprint: str | None = None,
) -> tuple[str, dict[str, bytes]]:
    """The report page and its download files. `data_fingerprint` (freshness.py) goes into the
    page, so a later run can tell whether its figures are still the tables'."""
    threshold_annual = data.threshold_hourly_usd * 2080
    chart_list = [
        charts.sub_cluster_chart(data.sub_cluster_employment),
        charts.industry_chart(data.sectors, has_industry_estimates=data.has_industry_estimates),
        charts.wage_chart(data.occupations, threshold_annual),
        state_map.state_chart(data.states, has_state_estimates=data.has_state_estimates),
        charts.outlook_chart(data.occupations, data.projection),
    ]
    tables = download_tables(data)
    files = downloads(data, tables, skill_item=policy_summary[0])
    links = download_links(data, files, tables)
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
            share_base=share_base(data.sectors),
            occupations=data.occupations.to_dicts(),
            onet_attribution=data.used.onet_attribution,
            bls_disclaimer=bls_disclaimer(data.projection is not None),
            threshold_annual=threshold_annual,
            data_fingerprint=data_fingerprint,
        )
    )
    return page, files


def share_base(sectors: pl.DataFrame) -> int | None:
    """The jobs the industry shares are of (one base for the cluster's rows); None for rows an
    earlier version built, whose shares had another base."""
    if "share_base_employment_count" not in sectors.columns or not sectors.height:
        return None
    value = sectors["share_base_employment_count"].max()
    return None if value is None else int(value)


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
    state: str | None = None,
) -> Path:
    """The release's index (clusters by grouping) and the top-level list of releases.
    `out_of_date`: clusters whose report shows figures the tables (and this page) no longer
    hold, marked as such; `state`: freshness.index_state, kept in the page to judge it by."""
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
        onet_attribution=release["used"].onet_attribution,
        index_state=state,
    )
    path = release_dir / "index.html"
    write_bytes(path, page.encode())
    releases = sorted(
        (p.name for p in output_dir.iterdir() if (p / "index.html").exists()), reverse=True
    )
    top = env.get_template("releases.html.j2").render(releases=releases, generated=generated_on())
    write_bytes(output_dir / "index.html", top.encode())
    return path
