"""What every source reader shares: the provenance record of one input file, the user-facing
error raised for bad input, and the fingerprint of a local copy the user points to (cited like a
download). The downloader is `http.py`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.errors import ExplainedError
from pipelines.sources.digest import Expect, digest_file


class SourceError(ExplainedError):
    """Clear, user-facing failure: names the source, what was wrong, and what to do."""

    def __init__(
        self,
        source: str,
        problem: str,
        remedy: str,
        *,
        url: str | None = None,
        is_damaged: bool = True,
    ):
        self.source, self.problem, self.remedy, self.url = source, problem, remedy, url
        # False for a file that is whole but not wanted (e.g. an older release): a download
        # refused as damaged is set aside (pipelines/sources/cache.py), this one is kept
        self.is_damaged = is_damaged
        where = f" (URL: {url})" if url else ""
        super().__init__(f"[{source}] {problem}{where}\nWhat to do: {remedy}")


@dataclass(frozen=True)
class FetchedFile:
    """Provenance of one input file, kept so every report can cite the exact bytes used."""

    source: str
    name: str
    url: str
    path: Path
    bytes: int
    sha256: str
    last_modified: str | None
    etag: str | None
    retrieved_at: str
    checked_at: str
    from_cache: bool

    def as_record(self) -> dict[str, Any]:
        """JSON-able dict of all fields, for run metadata and provenance tables."""
        return {**asdict(self), "path": str(self.path)}


def describe_local_file(path: Path, *, source: str, name: str, expect: Expect) -> FetchedFile:
    """Validate and fingerprint a user-supplied local copy so it is cited like a download."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(
            source,
            f"the local copy {path} does not exist or is not a file",
            "Check the path configured for this file, or unset that setting to use the default "
            "source instead: offline the embedded data or the project's fallback, in live mode "
            "a download.",
        )
    digest = digest_file(path)
    found = digest.problem(expect)
    if found:
        raise SourceError(
            source,
            f"the local copy {path} is {found[0]}",
            f"{found[1]}; download the file again and point the pipeline at the new copy.",
        )
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return FetchedFile(
        source=source,
        name=name,
        url=path.resolve().as_uri(),
        path=path,
        bytes=digest.size,
        sha256=digest.hexdigest(),
        last_modified=mtime,
        etag=None,
        retrieved_at=now,
        checked_at=now,
        from_cache=False,
    )
