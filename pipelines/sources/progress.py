"""Progress lines for long downloads: the 331 MB data file takes minutes on a slow link, and
the downloader otherwise logs only when a request ends."""

from __future__ import annotations

import logging
import time


class DownloadProgress:
    """A line every EVERY_S seconds of a long download, so a slow link is not silence."""

    EVERY_S = 15.0

    def __init__(self, log: logging.Logger, name: str, length: str | None):
        self.log, self.name = log, name
        self.total = f" of {int(length) / 1e6:,.0f}" if (length or "").isdigit() else ""
        self.next_at = time.monotonic() + self.EVERY_S

    def received(self, size: int) -> None:
        if time.monotonic() >= self.next_at:
            self.next_at = time.monotonic() + self.EVERY_S
            self.log.info("%s: %s%s MB received", self.name, f"{size / 1e6:,.0f}", self.total)
