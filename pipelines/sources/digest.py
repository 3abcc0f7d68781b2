"""sha256 fingerprints of source files, computed while the bytes stream past.

Every fetched or bundled file is cited by its sha256, and staging refuses a file whose bytes
changed since it was fetched. Hashing a 331 MB file costs about a third of a second, so it runs
beside the I/O (on a helper thread: hashlib releases the GIL) and a file this process already
hashed is not read again while it is unchanged.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from pathlib import Path
from typing import Literal

Expect = Literal["text", "xlsx", "zip"]

CHUNK = 1024 * 1024
_QUEUED_CHUNKS = 16  # at most 16 MB waiting for the hasher
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0"


class StreamDigest:
    """sha256, size and a sniff of the first bytes of a stream, so each file is read once.

    The sha256 runs on a helper thread, overlapping the socket and disk I/O that produce the
    chunks. Use it as a context manager (or call `close`) so the helper always ends.
    """

    def __init__(self) -> None:
        self.size, self.head, self.has_nul = 0, b"", False
        self._sha = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        self._failure: BaseException | None = None
        self._closed = False
        self._hasher = threading.Thread(target=self._hash, name="sha256", daemon=True)
        self._hasher.start()

    def __enter__(self) -> StreamDigest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _hash(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is None:
                try:
                    self._sha.update(chunk)
                except BaseException as err:  # e.g. MemoryError: reported by the caller's next call
                    self._failure = err
            # after a failure keep taking chunks, so the producer never blocks on a full queue

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise RuntimeError("sha256 of the stream failed") from self._failure

    def update(self, chunk: bytes) -> None:
        """Account for the next chunk of the stream (immutable bytes: hashed a little later)."""
        if self._closed:
            raise RuntimeError("StreamDigest.update after close")
        self._raise_failure()
        chunk = bytes(chunk)  # no copy for bytes; a reused bytearray must not change under us
        self._chunks.put(chunk)
        self.size += len(chunk)
        if len(self.head) < 512:
            self.head += chunk[: 512 - len(self.head)]
        self.has_nul = self.has_nul or b"\x00" in chunk

    def close(self) -> None:
        """End the stream: wait for the hasher to take in every chunk."""
        if not self._closed:
            self._closed = True
            self._chunks.put(None)
            self._hasher.join()

    def hexdigest(self) -> str:
        """The sha256 of the whole stream (ends it); raises if hashing failed."""
        self.close()
        self._raise_failure()
        return self._sha.hexdigest()

    def problem(self, expect: Expect) -> tuple[str, str] | None:
        """(what the bytes are, remedy hint) when they are not the kind of file expected."""
        if self.size == 0:
            return "an empty (0-byte) file", "Retry later"
        if self.head.lstrip(b"\xef\xbb\xbf").lstrip().lower().startswith(_HTML_MARKERS):
            return (
                "a web page instead of the data file (often a block or error page)",
                "Open the URL in a browser to read the page, check that CCP_CONTACT is a real "
                "e-mail address and the URL is right, then retry later",
            )
        if self.head.startswith(_CFB_MAGIC):
            return (
                "an encrypted/password-protected or legacy .xls (OLE) workbook, which cannot "
                "be read",
                "Open it in Excel, remove any password and save it as a plain .xlsx "
                "workbook, or check that the URL points at the .xlsx file",
            )
        if expect == "text" and self.head.startswith(_ZIP_MAGIC):
            return "a zip/xlsx archive where a text file was expected", "Check the URL"
        if expect == "text" and self.has_nul:
            return "binary data (NUL bytes) where a text file was expected", "Check the URL"
        if expect != "text" and not self.head.startswith(_ZIP_MAGIC):
            kind = "an .xlsx workbook" if expect == "xlsx" else "a zip archive"
            return f"a file that is not {kind} (no PK zip signature)", "Check the URL"
        return None


# sha256 values this process computed, by file, with the file's identity then (size, inode,
# modification and change times). While the identity is the same the file is trusted unchanged,
# as git trusts its index: any write, truncation or replacement changes the ctime, which no
# program can set back. Spares re-reading a 331 MB file seconds after it was hashed.
_HASHED: dict[str, tuple[tuple[int, int, int, int], str]] = {}


def identity(path: Path) -> tuple[int, int, int, int]:
    """What must stay the same for a remembered sha256 to still describe the file."""
    st = path.stat()
    return (st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


def remember(path: Path, before: tuple[int, int, int, int], sha256: str) -> None:
    """Keep `sha256` for `path` if the file still has the identity it had before hashing."""
    if identity(path) == before:  # not changed while it was read
        _HASHED[str(path.resolve())] = (before, sha256)


def digest_file(path: Path) -> StreamDigest:
    """Hash and sniff a file on disk (and remember its sha256)."""
    before = identity(path)
    with StreamDigest() as digest, path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    remember(path, before, digest.hexdigest())
    return digest


def sha256_file(path: Path, *, reuse: bool = False) -> str:
    """Hex sha256 of a file on disk (to verify cached and bundled files).

    With `reuse`, a value this process computed for the very same unchanged file is returned
    without reading it again."""
    known = _HASHED.get(str(path.resolve())) if reuse else None
    if known and known[0] == identity(path):
        return known[1]
    return digest_file(path).hexdigest()
