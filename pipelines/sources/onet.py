"""O*NET Job Zones: read the O*NET text files (the zip or its unpacked folder).

O*NET-SOC codes look like `XX-XXXX.YY`: the first 7 characters are the SOC 2018 code, `.00`
is the SOC occupation itself and `.01` and up are O*NET specialisations of it. Columns are
selected by name: text downloads differ between releases (29.x has a Title column; the 30.1
data dictionary lists only O*NET-SOC Code, Job Zone, Date, Domain Source). How a zone is
chosen for each OEWS code is in `pipelines/sources/job_zones.py`. O*NET is CC BY 4.0: show
`attribution()`.
"""

from __future__ import annotations

import re
import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import polars as pl

from pipelines.sources.files import SourceError

SOURCE = "onet"  # as the downloader names it, so one source has one name in messages
DEFAULT_ONET_URL = "https://www.onetcenter.org/dl_files/database/db_30_0_text.zip"
JOB_ZONES_FILE = "Job Zones.txt"
JOB_ZONE_REFERENCE_FILE = "Job Zone Reference.txt"

# output column -> header in the O*NET file (matched ignoring case and runs of whitespace)
JOB_ZONES_REQUIRED = {
    "onet_soc_code": "O*NET-SOC Code",
    "job_zone": "Job Zone",
    "date": "Date",
    "domain_source": "Domain Source",
}
JOB_ZONES_OPTIONAL = {"onet_title": "Title"}
JOB_ZONES_COLUMNS = ["onet_soc_code", "onet_title", "job_zone", "date", "domain_source"]
REFERENCE_REQUIRED = {
    "job_zone": "Job Zone",
    "name": "Name",
    "experience": "Experience",
    "education": "Education",
    "job_training": "Job Training",
    "examples": "Examples",
    "svp_range": "SVP Range",
}

_REMEDY = (
    "Download the O*NET database text files again (db_<release>_text.zip from "
    "https://www.onetcenter.org/database.html) and point CCP_ONET_LOCAL_PATH at the zip or at "
    f"a folder holding the unpacked '{JOB_ZONES_FILE}' and '{JOB_ZONE_REFERENCE_FILE}'."
)
_HTML_MARKERS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")
_ONET_CODE = re.compile(r"\d{2}-\d{4}\.\d{2}")
_RELEASE = re.compile(r"db_(\d+)_(\d+)(?:_[a-z]+)?\.zip", re.IGNORECASE)


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def _read_tab_file(
    path: Path, required: dict[str, str], optional: dict[str, str]
) -> tuple[list[tuple[int, dict[str, str | None]]], str]:
    """Rows of a tab-separated O*NET file as (line number, {output column: value}).

    Raises SourceError for a missing, empty, HTML, binary or ragged file and for missing
    required columns (listing the expected and the found headers).
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "was not found"
        raise SourceError(SOURCE, f"{path} {what}", _REMEDY)
    data = path.read_bytes()
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        raise SourceError(SOURCE, f"{path} is empty", _REMEDY)
    if head.startswith(_HTML_MARKERS):
        raise SourceError(
            SOURCE,
            f"{path} is a web page (HTML), not the tab-separated O*NET text file - typically "
            "an error or block page saved under the file's name",
            _REMEDY,
        )
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        kind = "a zip archive" if data.startswith(b"PK") else "binary data (NUL bytes)"
        raise SourceError(
            SOURCE,
            f"{path} is {kind}, not a tab-separated text file",
            f"If it is the database zip, unpack it with extract_from_zip(). {_REMEDY}",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    header = [h.strip() for h in lines[0].split("\t")]
    found = {_norm(h): i for i, h in enumerate(header)}
    missing = [h for h in required.values() if _norm(h) not in found]
    if missing:
        raise SourceError(
            SOURCE,
            f"{path} lacks the required column(s) {', '.join(repr(m) for m in missing)}; "
            f"expected {', '.join(repr(h) for h in required.values())} (by name, any order), "
            f"found {', '.join(repr(h) for h in header)}",
            f"Check that this is the O*NET '{path.name}' file (tab-separated, header in the "
            f"first line). {_REMEDY}",
        )
    index = {col: found.get(_norm(h)) for col, h in {**required, **optional}.items()}
    rows: list[tuple[int, dict[str, str | None]]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise SourceError(
                SOURCE,
                f"{path} line {number} has {len(cells)} tab-separated fields, the header has "
                f"{len(header)}: {line[:120]!r}",
                f"The file is damaged or not the O*NET text file. {_REMEDY}",
            )
        rows.append(
            (number, {c: None if i is None else cells[i].strip() for c, i in index.items()})
        )
    if not rows:
        raise SourceError(SOURCE, f"{path} has a header but no data rows", _REMEDY)
    return rows, str(path)


def _zone(value: str | None, number: int, name: str, label: str) -> int:
    """A Job Zone value as an int 1-5, else a SourceError naming the row."""
    if value is None or not value.isdigit() or not 1 <= int(value) <= 5:
        raise SourceError(
            SOURCE,
            f"{name} line {number} ({label}) has Job Zone {value!r}; Job Zones are whole "
            "numbers from 1 to 5",
            f"Fix or remove that row, or download the file again. {_REMEDY}",
        )
    return int(value)


def read_job_zones(path: Path) -> pl.DataFrame:
    """Read O*NET `Job Zones.txt`: one row per O*NET-SOC code, sorted by code.

    Columns: onet_soc_code, onet_title (null when the release has no Title column),
    job_zone (Int8, 1-5), date (MM/YYYY text), domain_source. Raises SourceError for a
    missing/HTML/empty file, missing columns, malformed codes, zones outside 1-5 and
    duplicate codes.
    """
    rows, name = _read_tab_file(path, JOB_ZONES_REQUIRED, JOB_ZONES_OPTIONAL)
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for number, row in rows:
        code = row["onet_soc_code"] or ""
        if not _ONET_CODE.fullmatch(code):
            raise SourceError(
                SOURCE,
                f"{name} line {number} has O*NET-SOC Code {code!r}; expected XX-XXXX.YY",
                f"Fix or remove that row, or download the file again. {_REMEDY}",
            )
        row["job_zone"] = str(_zone(row["job_zone"], number, name, code))
        if code in seen:
            duplicates.append(f"{code} (lines {seen[code]} and {number})")
        seen.setdefault(code, number)
    if duplicates:
        raise SourceError(
            SOURCE,
            f"{name} lists {len(duplicates)} O*NET-SOC code(s) more than once: "
            f"{', '.join(duplicates[:10])}",
            f"Each occupation has one Job Zone; remove the duplicates. {_REMEDY}",
        )
    frame = pl.DataFrame(
        [row for _, row in rows], schema=dict.fromkeys(JOB_ZONES_COLUMNS, pl.String)
    )
    return frame.with_columns(
        pl.col("onet_title").replace("", None), pl.col("job_zone").cast(pl.Int8)
    ).sort("onet_soc_code")


def read_job_zone_reference(path: Path) -> pl.DataFrame:
    """Read O*NET `Job Zone Reference.txt`: the five Job Zones, their names and descriptions.

    Columns: job_zone (Int8), name, experience, education, job_training, examples,
    svp_range; one row for each zone 1-5, sorted.
    """
    rows, name = _read_tab_file(path, REFERENCE_REQUIRED, {})
    for number, row in rows:
        row["job_zone"] = str(_zone(row["job_zone"], number, name, str(row["name"])))
    zones = sorted(int(str(row["job_zone"])) for _, row in rows)
    if zones != [1, 2, 3, 4, 5]:
        raise SourceError(
            SOURCE,
            f"{name} should describe each Job Zone 1-5 once; it has zones {zones}",
            _REMEDY,
        )
    frame = pl.DataFrame(
        [row for _, row in rows], schema=dict.fromkeys(REFERENCE_REQUIRED, pl.String)
    )
    return frame.with_columns(pl.col("job_zone").cast(pl.Int8)).sort("job_zone")


def onet_release_from_zip_name(name: str | Path) -> str | None:
    """The release in an O*NET database zip name (`db_30_0_text.zip` -> "30.0"), else None."""
    found = _RELEASE.fullmatch(Path(name).name)
    return f"{int(found.group(1))}.{found.group(2)}" if found else None


def extract_from_zip(zip_path: Path, out_dir: Path) -> dict[str, Path]:
    """Extract `Job Zones.txt` and `Job Zone Reference.txt` from an O*NET database zip.

    The members are found in any folder of the zip (`db_30_0_text/Job Zones.txt`) and written
    flat into out_dir. Returns {file name: extracted path}, keyed by JOB_ZONES_FILE and
    JOB_ZONE_REFERENCE_FILE. Raises SourceError for a missing, HTML or corrupt zip and for
    missing or ambiguous members.
    """
    zip_path, out_dir = Path(zip_path), Path(out_dir)
    wanted = (JOB_ZONES_FILE, JOB_ZONE_REFERENCE_FILE)
    if not zip_path.is_file():
        raise SourceError(SOURCE, f"the O*NET database zip {zip_path} was not found", _REMEDY)
    with zip_path.open("rb") as fh:
        head = fh.read(512)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_HTML_MARKERS):
        raise SourceError(
            SOURCE,
            f"{zip_path} is a web page (HTML), not the O*NET database zip",
            f"Open the URL it came from (CCP_ONET_URL) in a browser to see the page. {_REMEDY}",
        )
    corrupt = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            found: dict[str, list[str]] = {w: [] for w in wanted}
            for member in names:
                base = PurePosixPath(member.replace("\\", "/")).name
                for w in wanted:
                    if base.casefold() == w.casefold():
                        found[w].append(member)
            missing = [w for w in wanted if not found[w]]
            if missing:
                txt = sorted(PurePosixPath(n).name for n in names if n.endswith(".txt"))
                raise SourceError(
                    SOURCE,
                    f"{zip_path} has no {' or '.join(repr(m) for m in missing)} in any folder "
                    f"({len(names)} files; text files: {', '.join(txt[:12]) or 'none'})",
                    f"Use the text edition of the O*NET database (db_<release>_text.zip), "
                    f"not the Excel/SQL one. {_REMEDY}",
                )
            ambiguous = {w: m for w, m in found.items() if len(m) > 1}
            if ambiguous:
                raise SourceError(
                    SOURCE,
                    f"{zip_path} holds several copies: "
                    + "; ".join(f"{w}: {', '.join(m)}" for w, m in ambiguous.items()),
                    f"Use the unmodified O*NET database zip. {_REMEDY}",
                )
            out_dir.mkdir(parents=True, exist_ok=True)
            return {w: _extract(archive, found[w][0], out_dir / w) for w in wanted}
    except corrupt as err:
        raise SourceError(
            SOURCE,
            f"{zip_path} is not a readable zip archive (corrupt or truncated download): {err}",
            "Run again (a refused download is set aside and fetched again), or download it "
            "yourself (https://www.onetcenter.org/database.html) and point CCP_ONET_LOCAL_PATH "
            "at the zip or at a folder of its unpacked text files.",
        ) from err


def _extract(archive: zipfile.ZipFile, member: str, target: Path) -> Path:
    """Copy one member to target via a temporary file, so a failure leaves no partial file."""
    part = target.with_name(f"{target.name}.part")
    try:
        with archive.open(member) as src, part.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return target


def attribution(release: str, modified: bool = True) -> str:
    """The CC BY 4.0 attribution O*NET requires, naming the release (e.g. "30.0").

    With modified=True (the default, since codes are rolled up to OEWS codes) it adds the
    required notice that the information was modified without USDOL/ETA's endorsement.
    """
    release = str(release).strip()
    if not release:
        raise ValueError("name the O*NET release the data came from, e.g. '30.0'")
    text = (
        f"This includes information from the O*NET {release} Database by the U.S. Department "
        "of Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY "
        "4.0 license. O*NET® is a trademark of USDOL/ETA."
    )
    if modified:
        text += (
            " career-cluster-profiles has modified all or some of this information. USDOL/ETA "
            "has not approved, endorsed, or tested these modifications."
        )
    return text
