"""The text of a CSV file a user saved (state living wages, reviewer decisions), or where it is
not UTF-8: Excel's plain "CSV" on Windows writes Windows-1252, and each reader says so in its
own words."""

from __future__ import annotations


class NotUtf8Error(ValueError):
    """`line` (1-based) holds `byte`, the first that is not UTF-8."""

    def __init__(self, line: int, byte: int):
        self.line, self.byte = line, byte
        super().__init__(f"line {line} has the byte 0x{byte:02x}")


def decode_csv(data: bytes) -> str:
    """`data` as text (a UTF-8 byte-order mark dropped), or NotUtf8Error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise NotUtf8Error(data[: err.start].count(b"\n") + 1, data[err.start]) from None
