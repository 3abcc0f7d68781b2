"""The download cache's last good copy: a download that replaces a cached file keeps the one it
replaces, and a download its reader refuses is set aside with that copy put back.

HTTP-level checks (status, length, an HTML page, a damaged zip) stop a bad body before it
reaches the cache. A body that passes them and is still not the data (a cut-off workbook served
whole, a changed header) is only found by its reader, a step later. Left in the cache with its
validators, it would be revalidated (304) and refused again on every run; and it would have
replaced the archive's last good copy (BLS keeps only the current release online).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.sources.files import FetchedFile, SourceError

PREVIOUS = ".previous"  # the cached file a download replaced, until the next download
REFUSED = ".refused"  # a download its reader refused, kept for the user to look at


def sidecar(path: Path) -> Path:
    """The JSON beside a cached file: URL, bytes, sha256, validators, retrieval time."""
    return path.with_name(f"{path.name}.meta.json")


def _move(path: Path, to: Path) -> Path:
    """Move `path` and its sidecar to `to` (replacing what was there)."""
    os.replace(path, to)
    os.replace(sidecar(path), sidecar(to))
    return to


def _with_suffix(path: Path, suffix: str) -> Path:
    """`path` with `suffix` added to its name (oe.area -> oe.area.refused)."""
    return path.with_name(path.name + suffix)


def _recorded(path: Path) -> dict:
    """What the sidecar of `path` records; {} without a readable one (no cached download
    there, or one whose sidecar describes nothing)."""
    try:
        recorded = json.loads(sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _recorded_sha256(path: Path) -> str | None:
    return _recorded(path).get("sha256")


def is_length_unverified(file: FetchedFile) -> bool:
    """Whether `file` is a cached download whose server did not say its length (no
    Content-Length, not chunked), so a cut at a line end could not be seen while it arrived;
    False for a local copy, the embedded data, or a length checked against the server's."""
    recorded = _recorded(Path(file.path))
    return recorded.get("sha256") == file.sha256 and recorded.get("is_length_unverified") is True


def keep_previous(target: Path, new_sha256: str) -> None:
    """Before a download replaces `target`: keep the cached copy (and its sidecar) as
    `.previous` when the new bytes differ from it."""
    old = _recorded_sha256(target) if target.is_file() else None
    if old is not None and old != new_sha256:
        _move(target, _with_suffix(target, PREVIOUS))


def set_aside(file: FetchedFile) -> str | None:
    """`file`, a cached download, was refused by its reader: move it (and its sidecar) to
    `.refused` and put the copy it replaced back. Returns what was done, for the message;
    None when `file` is not a cached download (a local copy, the embedded data)."""
    path = Path(file.path)
    if _recorded_sha256(path) != file.sha256:
        return None  # not the bytes that were refused (or not from the cache at all)
    refused = _move(path, _with_suffix(path, REFUSED))
    previous = _with_suffix(path, PREVIOUS)
    if previous.is_file() and sidecar(previous).is_file():
        _move(previous, path)
        return (
            f"The refused download was moved to {refused}, and the copy cached before it is back "
            "in the cache: the next run asks the server again and uses that copy if the server "
            "says it is current."
        )
    return f"The refused download was moved to {refused}; the next run downloads it again."


@contextmanager
def refused_downloads_set_aside(files: Iterable[FetchedFile | None]) -> Iterator[None]:
    """Around the reading of `files` (and nothing else): when a reader refuses one of them (a
    SourceError naming it, or raised while only one is read), set that download aside and say
    so in the error."""
    given = [f for f in files if f is not None]
    try:
        yield
    except SourceError as err:
        if not err.is_damaged:
            raise
        # the block reads only `files`: the one named in the error, or the only one
        named = [f for f in given if f"({f.name})" in err.source] or given
        if len(named) == 1 and "#" in named[0].url:  # a file unpacked from a downloaded zip
            container = named[0].url.split("#")[0]
            named = [f for f in given if f.url == container] or named
        done = set_aside(named[0]) if len(named) == 1 else None
        if done is None:
            raise
        raise SourceError(err.source, err.problem, f"{err.remedy} {done}", url=err.url) from None
