"""Polite, cached, checksummed HTTP downloads of publisher files (BLS, Census).

BLS blocks anonymous or aggressive clients, so every request carries a User-Agent with a
contact address, requests are serialised process-wide and spaced out, and unchanged files
are revalidated with conditional GETs instead of being downloaded again. Bytes reach the
cache only after they were fully received, hashed and sniffed, so a failed download never
replaces a good cached copy. (Cache files are not fsynced: after an operating-system crash one
may be incomplete, but its sha256 no longer matches its sidecar or the provenance recorded in
the warehouse, so it is fetched again or refused, never read as data.)
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import os
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from urllib3.exceptions import IncompleteRead, ProtocolError, ReadTimeoutError

from pipelines.sources.cache import keep_previous, sidecar
from pipelines.sources.digest import CHUNK, Expect, StreamDigest, digest_file, identity, remember
from pipelines.sources.files import FetchedFile, SourceError
from pipelines.sources.progress import DownloadProgress
from pipelines.sources.source_settings import copy_advice, url_setting

_BROKEN_BODY = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, ProtocolError)

# One request at a time per process, however many Downloaders exist (Dagster runs assets in
# threads); _LAST_START spaces the starts of consecutive requests.
_FETCH_LOCK = threading.Lock()
_LAST_START = [float("-inf")]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def user_agent(contact: str | None, product: str = "career-cluster-profiles/0.1") -> str:
    """Build the identifying User-Agent; refuse without contact info, since BLS 403s that."""
    value = (contact or "").strip()
    if "@" not in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise SourceError(
            "settings",
            f"no usable contact e-mail address is configured for the User-Agent (got {contact!r})",
            "Set CCP_CONTACT to an e-mail address you read, e.g. "
            "`export CCP_CONTACT=you@example.org`. BLS answers 403 Forbidden to clients whose "
            "User-Agent does not identify them with contact information.",
        )
    return f"{product} (contact: {value})"


class _Retryable(Exception):
    """A transient failure worth another attempt; wait_s (Retry-After) overrides backoff."""

    def __init__(self, reason: str, wait_s: float | None = None):
        super().__init__(reason)
        self.reason, self.wait_s = reason, wait_s


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _caused_by(exc: BaseException, kind: type[BaseException], depth: int = 0) -> bool:
    """Whether `kind` is anywhere in the chain requests/urllib3 wrap errors in."""
    if isinstance(exc, kind):
        return True
    nested = [exc.__cause__, exc.__context__, *exc.args] if depth < 8 else []
    return any(isinstance(e, BaseException) and _caused_by(e, kind, depth + 1) for e in nested)


def _short(err: BaseException) -> str:
    """The useful tail ("[Errno 111] Connection refused") of requests' nested messages."""
    found = re.search(r"\[Errno -?\d+\][^'\")]*", str(err))
    return found.group(0).strip() if found else str(err)[:300]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically so a crash never leaves a half-written sidecar."""
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class Downloader:
    """Fetches publisher files into a cache: politely, with retries and revalidation."""

    def __init__(
        self,
        cache_dir: Path,
        contact: str | None,
        *,
        timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_s: float = 2.0,
        max_backoff_s: float = 60.0,
        min_interval_s: float = 1.0,
        logger: logging.Logger | None = None,
    ):
        self.cache_dir, self.contact = Path(cache_dir), contact
        self.timeout_s, self.max_retries = timeout_s, max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.min_interval_s = min_interval_s
        self.log = logger or logging.getLogger(__name__)
        self.session = requests.Session()

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, source: str, name: str, expect: Expect) -> FetchedFile:
        """Return the current bytes of `url`: the cache after a 304, else a fresh download."""
        agent = user_agent(self.contact)  # refuse before any request
        for part in (source, name):
            if not part or part != Path(part).name or part.startswith("."):
                raise ValueError(f"not a plain file name: {part!r}")
        target = self.cache_dir / source / name
        with _FETCH_LOCK:
            target.parent.mkdir(parents=True, exist_ok=True)
            cached = self._usable_cache(url, target)
            last = "no attempt was made"
            for attempt in range(self.max_retries + 1):
                try:
                    return self._attempt(url, source, name, expect, agent, target, cached)
                except _Retryable as err:
                    last = err.reason
                    if attempt == self.max_retries:
                        break
                    wait = self.backoff_s * 2**attempt if err.wait_s is None else err.wait_s
                    wait = min(wait, self.max_backoff_s)
                    self.log.warning(
                        "%s: attempt %d of %d failed (%s); retrying in %.1fs",
                        url,
                        attempt + 1,
                        self.max_retries + 1,
                        last,
                        wait,
                    )
                    time.sleep(wait)
            raise SourceError(
                source,
                f"downloading {name} failed after {self.max_retries + 1} attempts; "
                f"last failure: {last}",
                f"The server or network may be busy or down. Retry later, {copy_advice(source)}.",
                url=url,
            )

    def _usable_cache(self, url: str, target: Path) -> dict[str, Any] | None:
        """The sidecar of an intact cache file that may be revalidated, else None."""
        meta_path = sidecar(target)
        if not target.is_file() or not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            recorded = str(meta["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            self.log.warning("cache sidecar %s is unreadable; downloading again", meta_path)
            return None
        if meta.get("url") != url:
            return None  # validators from another URL say nothing about this one
        if target.stat().st_size == 0:
            self.log.warning("cache file %s is empty; ignoring it and downloading again", target)
            return None
        digest = digest_file(target)
        if digest.hexdigest() != recorded or digest.size != meta.get("bytes"):
            self.log.warning(
                "cache file %s no longer matches its sidecar (sha256 %s..., expected %s...); "
                "ignoring it and downloading again",
                target,
                digest.hexdigest()[:12],
                recorded[:12],
            )
            return None
        return meta

    def _validators(self, resp: requests.Response, meta: dict[str, Any], name: str) -> dict:
        """What the sidecar keeps for the next conditional GET. A body that ended when the
        connection closed, with no Content-Length and not chunked, may have been cut short
        without any sign: its ETag and date are not kept, so the next run downloads it whole
        again instead of being told by a 304 that the cut copy is current."""
        chunked = "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
        if resp.headers.get("Content-Length", "").isdigit() or chunked:
            return meta
        self.log.warning(
            "%s: the server did not say how long the file is, so a connection cut short cannot "
            "be told from its end; the next run downloads it again rather than revalidating it",
            name,
        )
        return {**meta, "etag": None, "last_modified": None, "is_length_unverified": True}

    def _pace(self) -> None:
        wait = _LAST_START[0] + self.min_interval_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _LAST_START[0] = time.monotonic()

    def _attempt(
        self,
        url: str,
        source: str,
        name: str,
        expect: Expect,
        agent: str,
        target: Path,
        cached: dict[str, Any] | None,
    ) -> FetchedFile:
        """One GET; raises _Retryable for transient failures, SourceError for final ones."""
        headers = {"User-Agent": agent}
        if cached and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        if cached and cached.get("last_modified"):
            headers["If-Modified-Since"] = cached["last_modified"]
        self._pace()
        part = target.with_name(f"{target.name}.part")
        started, status = time.monotonic(), "no response"
        digest = StreamDigest()  # its hasher thread ends in the `finally` below
        try:
            with self.session.get(
                url, headers=headers, stream=True, timeout=self.timeout_s
            ) as resp:
                status = str(resp.status_code)
                if resp.status_code == 304 and cached:
                    return FetchedFile(
                        source=source,
                        name=name,
                        url=url,
                        path=target,
                        bytes=cached["bytes"],
                        sha256=cached["sha256"],
                        last_modified=cached.get("last_modified"),
                        etag=cached.get("etag"),
                        retrieved_at=cached["retrieved_at"],
                        checked_at=_now(),
                        from_cache=True,
                    )
                self._raise_for_status(resp, source, url, agent)
                try:
                    with part.open("wb") as fh:
                        # No fsync: a cached file is re-hashed against its sidecar before
                        # it is used again, and staging re-checks it against the sha256 it
                        # recorded, so one damaged by a crash is refused, never read.
                        length = resp.headers.get("Content-Length")
                        progress = DownloadProgress(self.log, name, length)
                        for chunk in resp.iter_content(CHUNK):
                            digest.update(chunk)
                            fh.write(chunk)
                            progress.received(digest.size)
                except _BROKEN_BODY as err:
                    raise _Retryable(self._broken_body(err, resp, digest.size)) from err
                announced = resp.headers.get("Content-Length", "")
                encoded = resp.headers.get("Content-Encoding", "identity") != "identity"
                if announced.isdigit() and not encoded and digest.size < int(announced):
                    raise _Retryable(
                        f"the body was shorter than announced "
                        f"({digest.size} of {announced} bytes received)"
                    )
                found = digest.problem(expect)
                if found:
                    raise SourceError(
                        source,
                        f"the server returned {found[0]}",
                        f"{found[1]}, {copy_advice(source)}. The cached copy (if any) was kept.",
                        url=url,
                    )
                keep_previous(target, digest.hexdigest())
                os.replace(part, target)
                remember(target, identity(target), digest.hexdigest())
                meta = {
                    "url": url,
                    "bytes": digest.size,
                    "sha256": digest.hexdigest(),
                    "last_modified": resp.headers.get("Last-Modified"),
                    "etag": resp.headers.get("ETag"),
                    "retrieved_at": _now(),
                }
                _write_json(sidecar(target), self._validators(resp, meta, name))
                return FetchedFile(
                    source=source,
                    name=name,
                    path=target,
                    **meta,
                    checked_at=meta["retrieved_at"],
                    from_cache=False,
                )
        except requests.TooManyRedirects as err:
            raise SourceError(
                source,
                f"the server kept redirecting (a redirect loop): {err}",
                "The publisher may have moved the file or be redirecting automated clients. "
                f"Open the URL in a browser and check "
                f"{url_setting(source)}, {copy_advice(source)}.",
                url=url,
            ) from err
        except requests.Timeout as err:
            raise _Retryable(f"timed out after {self.timeout_s:g}s waiting for the server") from err
        except (requests.ConnectionError, ProtocolError) as err:
            raise _Retryable(f"connection failed: {_short(err)}") from err
        except requests.RequestException as err:
            raise SourceError(
                source,
                f"the request failed: {err}",
                f"Check the URL setting, {copy_advice(source)}.",
                url=url,
            ) from err
        finally:
            digest.close()
            part.unlink(missing_ok=True)
            self.log.info(
                "GET %s -> %s, %d bytes, %.2fs",
                url,
                status,
                digest.size,
                time.monotonic() - started,
            )

    def _raise_for_status(self, resp: requests.Response, source: str, url: str, agent: str) -> None:
        """Turn non-2xx answers into retries (429, 5xx) or clear, final SourceErrors."""
        status = resp.status_code
        if status == 429:
            raise _Retryable(
                "429 Too Many Requests (rate limited)",
                wait_s=_retry_after(resp.headers.get("Retry-After")),
            )
        if status >= 500:
            raise _Retryable(f"server error {status} {resp.reason}")
        if status == 403:
            raise SourceError(
                source,
                "the server refused the download with 403 Forbidden. BLS answers 403 to clients "
                "without an identifying User-Agent that includes contact information, and to "
                f"clients that fetch too often. User-Agent sent: {agent!r}",
                "Set CCP_CONTACT to a real e-mail address you read, make sure nothing is "
                "fetching from this site too often, wait a while and retry, "
                f"{copy_advice(source)}.",
                url=url,
            )
        if 400 <= status < 500:
            raise SourceError(
                source,
                f"the server answered {status} {resp.reason}",
                f"Check {url_setting(source)} and whether the "
                f"publisher moved or renamed the file, {copy_advice(source)}.",
                url=url,
            )
        if not 200 <= status < 300:
            raise SourceError(
                source,
                f"unexpected HTTP status {status} {resp.reason}",
                f"Retry later, {copy_advice(source)}.",
                url=url,
            )

    @staticmethod
    def _broken_body(err: BaseException, resp: requests.Response, received: int) -> str:
        """Say how the body broke: a reset, a short body, or a stalled read."""
        announced = resp.headers.get("Content-Length", "?")
        with contextlib.suppress(Exception):  # bytes off the wire; 0 when unknown
            received = max(received, int(resp.raw.tell()))
        got = (
            f"{received} of {announced} bytes received"
            if received
            else (f"{announced} bytes announced")
        )
        if _caused_by(err, ConnectionResetError):
            return f"the connection was reset mid-body ({got})"
        if _caused_by(err, ReadTimeoutError):
            return f"timed out while reading the body ({got})"
        if _caused_by(err, IncompleteRead) or received:
            return f"the body was shorter than announced ({got}; the connection closed early)"
        return f"the connection broke while reading the body: {_short(err)}"
