"""Helpers shared by the workbook-parser tests: writing cells, files that are not workbooks,
and the check that an error message is one a user can act on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pipelines.sources.files import SourceError

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE header: legacy .xls or an encrypted workbook

# Files saved as .xlsx that are not readable workbooks: (bytes, fragment the error must hold).
NOT_A_WORKBOOK: dict[str, tuple[bytes, str]] = {
    "corrupt_zip": (b"PK\x03\x04" + b"\x00garbage" * 50, "corrupt or truncated zip"),
    "html": (b"<!DOCTYPE html><html><body>Access Denied</body></html>", "HTML"),
    "cfb": (_CFB + b"\x00" * 1024, "password-protected"),
    "cfb_encrypted": (
        _CFB + b"\x00" * 512 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 512,
        "password-protected (encrypted) workbook",
    ),
}


def write_rows(sheet: object, rows: Iterable[Sequence[object]]) -> None:
    """Write rows into an openpyxl sheet from cell A1 (None leaves a cell blank)."""
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)  # type: ignore[attr-defined]


def assert_clear(err: SourceError, path: Path, *fragments: str) -> str:
    """The message names the file, says what to do, and holds every fragment."""
    msg = str(err)
    assert path.name in msg, msg
    assert "\nWhat to do: " in msg and err.remedy.strip(), msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    return msg
