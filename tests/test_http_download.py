"""The downloader against a real HTTP server on 127.0.0.1 (no HTTP mocking)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines.sources.files import FetchedFile, SourceError, describe_local_file
from pipelines.sources.http import Downloader, _retry_after, user_agent
from tests.support.loopback import DEFAULT_LAST_MODIFIED, LoopbackServer, Response

CONTACT = "tests@example.org"
BODY = b"area_code\tareatype_code\tarea_name\n0000000\tN\tNational\n" * 40
NEW_BODY = b"area_code\tareatype_code\tarea_name\n0000000\tN\tU.S. total\n" * 40
LOGGER = "pipelines.sources.http"

MakeDownloader = Callable[..., Downloader]


@pytest.fixture
def make_downloader(tmp_path: Path) -> Iterator[MakeDownloader]:
    """Fast settings for tests: tiny backoff, no pacing; closes every session afterwards."""
    made: list[Downloader] = []

    def make(contact: str | None = CONTACT, **kw: Any) -> Downloader:
        opts: dict[str, Any] = {
            "timeout_s": 2.0,
            "max_retries": 3,
            "backoff_s": 0.01,
            "max_backoff_s": 0.05,
            "min_interval_s": 0.0,
        }
        opts.update(kw)
        dl = Downloader(tmp_path / "cache", contact, **opts)
        made.append(dl)
        return dl

    yield make
    for dl in made:
        dl.close()


def fetch_text(dl: Downloader, server: LoopbackServer, path: str = "oe.area") -> FetchedFile:
    return dl.fetch(server.url(path), source="oews", name="oe.area", expect="text")


def cache_state(tmp_path: Path) -> tuple[bytes, str]:
    folder = tmp_path / "cache" / "oews"
    return (folder / "oe.area").read_bytes(), (folder / "oe.area.meta.json").read_text()


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.suffix in {".part", ".tmp"})


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


# --- happy path, cache and revalidation ------------------------------------------------


def test_download_writes_cache_sidecar_and_sha256(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    route = loopback_server.add("/oe.area", BODY)
    got = fetch_text(make_downloader(), loopback_server)

    cache = tmp_path / "cache" / "oews" / "oe.area"
    assert got.path == cache
    assert cache.read_bytes() == BODY
    assert got.bytes == len(BODY)
    assert got.sha256 == hashlib.sha256(BODY).hexdigest()
    assert got.etag == route.etag and got.etag is not None
    assert got.last_modified == DEFAULT_LAST_MODIFIED
    assert got.from_cache is False
    assert got.retrieved_at == got.checked_at
    assert datetime.fromisoformat(got.retrieved_at).tzinfo is not None
    assert got.url == loopback_server.url("oe.area")

    meta = json.loads((cache.parent / "oe.area.meta.json").read_text())
    assert meta == {
        "url": got.url,
        "bytes": len(BODY),
        "sha256": got.sha256,
        "last_modified": DEFAULT_LAST_MODIFIED,
        "etag": route.etag,
        "retrieved_at": got.retrieved_at,
    }
    record = got.as_record()
    assert record["path"] == str(cache)
    assert json.loads(json.dumps(record))["sha256"] == got.sha256
    assert leftovers(tmp_path) == []

    (req,) = loopback_server.requests
    assert req.method == "GET"
    assert req.header("User-Agent") == user_agent(CONTACT)
    assert CONTACT in (req.header("User-Agent") or "")
    assert req.header("If-None-Match") is None


def test_second_fetch_gets_304_and_reuses_cache(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    route = loopback_server.add("/oe.area", BODY)
    dl = make_downloader()
    first = fetch_text(dl, loopback_server)
    before = cache_state(tmp_path)
    second = fetch_text(dl, loopback_server)

    reqs = loopback_server.requests
    assert len(reqs) == 2
    assert reqs[1].header("If-None-Match") == route.etag
    assert reqs[1].header("If-Modified-Since") == DEFAULT_LAST_MODIFIED
    assert reqs[1].status == 304
    assert second.from_cache is True
    assert second.sha256 == first.sha256 and second.bytes == first.bytes
    assert second.retrieved_at == first.retrieved_at
    assert second.etag == first.etag
    assert second.path.read_bytes() == BODY
    assert cache_state(tmp_path) == before


def test_a_body_of_unsaid_length_is_downloaded_again_next_time(
    loopback_server: LoopbackServer,
    make_downloader: MakeDownloader,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No Content-Length and not chunked: a body cut at a line end looks whole, so its ETag
    and date are not kept, and the next run fetches it whole instead of a 304 for the cut."""
    cut = BODY[: BODY.index(b"\n", len(BODY) // 2) + 1]
    route = "/oe.area"
    loopback_server.add_sequence(
        route,
        [
            Response.close_delimited(cut, etag='"v1"', last_modified=DEFAULT_LAST_MODIFIED),
            Response(body=BODY, etag='"v1"', last_modified=DEFAULT_LAST_MODIFIED),
        ],
    )
    dl = make_downloader()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        first = fetch_text(dl, loopback_server)
    assert first.bytes == len(cut) and first.etag == '"v1"'  # what the server said, recorded
    assert "did not say how long the file is" in caplog.text
    sidecar = json.loads(cache_state(tmp_path)[1])
    assert sidecar["etag"] is None and sidecar["last_modified"] is None
    assert sidecar["is_length_unverified"] is True
    second = fetch_text(dl, loopback_server)
    last = loopback_server.requests[-1]
    assert last.header("If-None-Match") is None and last.header("If-Modified-Since") is None
    assert last.status == 200 and second.bytes == len(BODY) and not second.from_cache
    assert json.loads(cache_state(tmp_path)[1])["etag"] == '"v1"'  # a length said: kept


def test_a_long_download_says_how_far_it_has_got(
    loopback_server: LoopbackServer,
    make_downloader: MakeDownloader,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On a slow link the 331 MB file takes minutes: a line every few seconds, not silence."""
    from pipelines.sources.progress import DownloadProgress

    monkeypatch.setattr(DownloadProgress, "EVERY_S", 0.0)
    body = BODY * 40_000  # about 2 MB: several chunks
    loopback_server.add("/oe.area", body)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fetch_text(make_downloader(), loopback_server)
    lines = [r.getMessage() for r in caplog.records if "MB received" in r.getMessage()]
    total = f"{len(body) / 1e6:,.0f}"
    assert lines and all(line.startswith("oe.area: ") for line in lines)
    assert lines[-1] == f"oe.area: {total} of {total} MB received"


def test_if_modified_since_alone_gives_304(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add("/oe.area", BODY, etag=None)
    dl = make_downloader()
    fetch_text(dl, loopback_server)
    second = fetch_text(dl, loopback_server)
    last = loopback_server.requests[-1]
    assert last.header("If-None-Match") is None
    assert last.header("If-Modified-Since") == DEFAULT_LAST_MODIFIED
    assert last.status == 304 and second.from_cache is True


def test_changed_upstream_file_replaces_cache(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader()
    first = fetch_text(dl, loopback_server)
    loopback_server.add("/oe.area", NEW_BODY, last_modified="Wed, 02 Apr 2025 12:00:00 GMT")
    second = fetch_text(dl, loopback_server)
    assert loopback_server.requests[-1].status == 200
    assert second.from_cache is False
    assert second.sha256 == hashlib.sha256(NEW_BODY).hexdigest() != first.sha256
    assert second.path.read_bytes() == NEW_BODY


def test_cache_from_another_url_is_not_revalidated(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add("/a/oe.area", BODY)
    loopback_server.add("/b/oe.area", BODY)
    dl = make_downloader()
    fetch_text(dl, loopback_server, "a/oe.area")
    got = fetch_text(dl, loopback_server, "b/oe.area")
    assert loopback_server.requests[-1].header("If-None-Match") is None
    assert got.from_cache is False and got.url.endswith("/b/oe.area")


# --- identification --------------------------------------------------------------------


def test_user_agent_format_and_refusals() -> None:
    assert user_agent(" a@b.org ") == "career-cluster-profiles/0.1 (contact: a@b.org)"
    assert user_agent("a@b.org", product="x/2") == "x/2 (contact: a@b.org)"
    for bad in (None, "", "   ", "nobody", "a@b.org\r\nX-Evil: 1"):
        with pytest.raises(SourceError) as info:
            user_agent(bad)
        assert info.value.source == "settings"
        assert "CCP_CONTACT" in str(info.value)


@pytest.mark.parametrize("contact", [None, "", "no-at-sign"])
def test_no_contact_is_refused_before_any_request(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, contact: str | None
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader(contact=contact)  # constructing is allowed
    with pytest.raises(SourceError) as info:
        fetch_text(dl, loopback_server)
    assert info.value.source == "settings"
    assert loopback_server.requests == []


def test_403_explains_user_agent_and_keeps_cache(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader()
    fetch_text(dl, loopback_server)
    before = cache_state(tmp_path)
    loopback_server.add_sequence("/oe.area", [Response.html_page(status=403)])

    with pytest.raises(SourceError) as info:
        fetch_text(dl, loopback_server)
    msg = str(info.value)
    assert "User-Agent" in msg and "CCP_CONTACT" in msg
    assert user_agent(CONTACT) in msg
    assert "too often" in msg
    assert info.value.source == "oews" and info.value.url == loopback_server.url("oe.area")
    assert len(loopback_server.requests) == 2  # 403 is not retried
    assert cache_state(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_server_mimicking_bls_blocks_anonymous_clients(
    make_downloader: MakeDownloader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with LoopbackServer(require_user_agent_contact=True) as server:
        server.add("/oe.area", BODY)
        anonymous = requests.get(server.url("oe.area"), timeout=5)
        assert anonymous.status_code == 403
        got = fetch_text(make_downloader(), server)
        assert got.bytes == len(BODY)
        assert [r.status for r in server.requests] == [403, 200]


# --- retries ---------------------------------------------------------------------------


def test_500_then_200_succeeds_after_retry(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence("/oe.area", [Response.error(500), Response(body=BODY)])
    got = fetch_text(make_downloader(), loopback_server)
    assert got.path.read_bytes() == BODY
    assert [r.status for r in loopback_server.requests] == [500, 200]


def test_persistent_5xx_gives_up_with_advice(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence("/oe.area", [Response.error(503)])
    with pytest.raises(SourceError) as info:
        fetch_text(make_downloader(max_retries=2), loopback_server)
    msg = str(info.value)
    assert "503" in msg and "3 attempts" in msg
    assert "point CCP_OEWS_LOCAL_DIR (a folder" in msg  # names the setting for your own copy
    assert len(loopback_server.requests) == 3


def test_429_honours_retry_after(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence(
        "/oe.area", [Response.error(429, headers={"Retry-After": "1"}), Response(body=BODY)]
    )
    got = fetch_text(make_downloader(max_backoff_s=5.0), loopback_server)
    first, second = loopback_server.requests
    assert got.bytes == len(BODY)
    assert [first.status, second.status] == [429, 200]
    assert second.time - first.time >= 0.95


def test_retry_after_is_capped_by_max_backoff(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence(
        "/oe.area", [Response.error(429, headers={"Retry-After": "30"}), Response(body=BODY)]
    )
    started = time.monotonic()
    fetch_text(make_downloader(max_backoff_s=0.1), loopback_server)
    assert time.monotonic() - started < 2.0
    assert len(loopback_server.requests) == 2


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (_retry_after(later) or 0) <= 21
    assert _retry_after("Tue, 01 Apr 2025 12:00:00 GMT") == 0.0


def test_truncated_body_retries_then_fails_keeping_cache(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader(max_retries=2)
    fetch_text(dl, loopback_server)
    before = cache_state(tmp_path)
    loopback_server.add_sequence("/oe.area", [Response.truncated(NEW_BODY, missing=500)])

    with pytest.raises(SourceError) as info:
        fetch_text(dl, loopback_server)
    assert "shorter than announced" in str(info.value)
    assert f"of {len(NEW_BODY) + 500} bytes" in str(info.value)
    assert len(loopback_server.requests) == 1 + 3
    assert cache_state(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_truncated_then_complete_body_succeeds(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence("/oe.area", [Response.truncated(BODY), Response(body=BODY)])
    got = fetch_text(make_downloader(), loopback_server)
    assert got.path.read_bytes() == BODY and got.bytes == len(BODY)
    assert len(loopback_server.requests) == 2


def test_connection_reset_mid_body_is_retried(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    big = BODY * 200  # ~ 1 MB, so the reset lands while the client is still reading
    loopback_server.add_sequence("/oe.area", [Response.reset_mid_body(big), Response(body=big)])
    got = fetch_text(make_downloader(), loopback_server)
    assert got.sha256 == hashlib.sha256(big).hexdigest()
    assert got.path.read_bytes() == big
    assert len(loopback_server.requests) == 2
    assert leftovers(tmp_path) == []


def test_persistent_resets_fail_with_clear_message(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    loopback_server.add_sequence("/oe.area", [Response.reset_mid_body(BODY * 50)])
    with pytest.raises(SourceError) as info:
        fetch_text(make_downloader(max_retries=1), loopback_server)
    assert "2 attempts" in str(info.value)
    assert "reset" in str(info.value) or "shorter than announced" in str(info.value)
    assert not (tmp_path / "cache" / "oews" / "oe.area").exists()
    assert leftovers(tmp_path) == []


def test_timeout_is_retried_then_fails(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence("/oe.area", [Response.slow(3.0, BODY)])
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch_text(make_downloader(timeout_s=0.3, max_retries=1), loopback_server)
    assert "timed out" in str(info.value)
    assert len(loopback_server.requests) == 2
    assert time.monotonic() - started < 2.5


def test_slow_then_fast_succeeds(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence("/oe.area", [Response.slow(2.0, BODY), Response(body=BODY)])
    got = fetch_text(make_downloader(timeout_s=0.3), loopback_server)
    assert got.bytes == len(BODY)
    assert len(loopback_server.requests) == 2


# --- non-retried failures --------------------------------------------------------------


def test_html_page_with_200_is_rejected_and_cache_kept(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader()
    fetch_text(dl, loopback_server)
    before = cache_state(tmp_path)
    loopback_server.add_sequence("/oe.area", [Response.html_page()])

    with pytest.raises(SourceError) as info:
        fetch_text(dl, loopback_server)
    assert "web page instead of the data file" in str(info.value)
    assert len(loopback_server.requests) == 2  # not retried
    assert cache_state(tmp_path) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "page", [b"  \n<HTML><body>blocked</body></HTML>", b"\xef\xbb\xbf<head><title>x</title>"]
)
def test_html_detection_ignores_case_whitespace_and_bom(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, page: bytes
) -> None:
    loopback_server.add_sequence("/oe.area", [Response(body=page, content_type="text/plain")])
    with pytest.raises(SourceError, match="web page"):
        fetch_text(make_downloader(), loopback_server)


def test_redirect_to_itself_is_an_error(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_redirect_loop("/oe.area")
    with pytest.raises(SourceError, match="redirect"):
        fetch_text(make_downloader(), loopback_server)


def test_redirect_between_two_paths_is_an_error(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_redirect_loop("/oe.area", "/elsewhere/oe.area")
    with pytest.raises(SourceError, match="redirect") as info:
        fetch_text(make_downloader(), loopback_server)
    paths = {r.path for r in loopback_server.requests}
    assert paths == {"/oe.area", "/elsewhere/oe.area"}
    assert info.value.url == loopback_server.url("oe.area")


def test_redirect_to_real_file_is_followed(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add_sequence("/old/oe.area", [Response.redirect("/new/oe.area", 301)])
    loopback_server.add("/new/oe.area", BODY)
    got = fetch_text(make_downloader(), loopback_server, "old/oe.area")
    assert got.path.read_bytes() == BODY


def test_404_names_url_and_is_not_retried(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    with pytest.raises(SourceError) as info:
        fetch_text(make_downloader(), loopback_server, "missing/oe.area")
    msg = str(info.value)
    assert loopback_server.url("missing/oe.area") in msg
    assert "404" in msg and "CCP_BLS_BASE_URL" in msg
    assert len(loopback_server.requests) == 1


def test_empty_body_is_rejected(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    loopback_server.add_sequence("/oe.area", [Response(body=b"")])
    with pytest.raises(SourceError, match="empty"):
        fetch_text(make_downloader(), loopback_server)
    assert not (tmp_path / "cache" / "oews" / "oe.area").exists()


# --- damaged cache ---------------------------------------------------------------------


def test_corrupted_cache_warns_and_downloads_again(
    loopback_server: LoopbackServer,
    make_downloader: MakeDownloader,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader()
    first = fetch_text(dl, loopback_server)
    first.path.write_bytes(BODY.replace(b"National", b"Nat10nal"))  # same size, other bytes

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        again = fetch_text(dl, loopback_server)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(first.path) in w and "sidecar" in w for w in warnings)
    last = loopback_server.requests[-1]
    assert last.header("If-None-Match") is None and last.header("If-Modified-Since") is None
    assert last.status == 200
    assert again.from_cache is False
    assert again.path.read_bytes() == BODY and again.sha256 == first.sha256


def test_empty_cache_file_downloads_again(
    loopback_server: LoopbackServer,
    make_downloader: MakeDownloader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    loopback_server.add("/oe.area", BODY)
    dl = make_downloader()
    first = fetch_text(dl, loopback_server)
    first.path.write_bytes(b"")

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        again = fetch_text(dl, loopback_server)
    assert any(f"{first.path} is empty" in r.getMessage() for r in caplog.records)
    assert loopback_server.requests[-1].header("If-None-Match") is None
    assert again.from_cache is False and again.path.read_bytes() == BODY


# --- content sniffing ------------------------------------------------------------------


def test_xlsx_expected_but_text_served(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add("/naics.xlsx", b"code,title\n11,Agriculture\n")
    with pytest.raises(SourceError, match=r"not an \.xlsx workbook"):
        make_downloader().fetch(
            loopback_server.url("naics.xlsx"), source="naics", name="naics.xlsx", expect="xlsx"
        )


def test_cfb_header_means_password_protected(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add("/soc.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(SourceError, match="password-protected") as info:
        make_downloader().fetch(
            loopback_server.url("soc.xlsx"), source="soc", name="soc.xlsx", expect="xlsx"
        )
    assert info.value.source == "soc"


def test_real_zip_passes_for_xlsx_and_zip(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    payload = make_zip()
    loopback_server.add("/f.zip", payload, content_type="application/zip")
    dl = make_downloader()
    for expect in ("xlsx", "zip"):
        got = dl.fetch(loopback_server.url("f.zip"), source="x", name=f"f.{expect}", expect=expect)  # type: ignore[arg-type]
        assert got.sha256 == hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [(b"abc\x00def\n", "NUL"), (b"PK\x03\x04rest", "zip/xlsx archive")],
)
def test_text_expected_but_binary_served(
    loopback_server: LoopbackServer,
    make_downloader: MakeDownloader,
    payload: bytes,
    fragment: str,
) -> None:
    loopback_server.add("/oe.area", payload)
    with pytest.raises(SourceError, match=fragment):
        fetch_text(make_downloader(), loopback_server)


def test_latin1_text_is_accepted(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    payload = "área\tSão Paulo\n".encode("latin-1")
    loopback_server.add("/oe.area", payload)
    assert fetch_text(make_downloader(), loopback_server).bytes == len(payload)


# --- politeness ------------------------------------------------------------------------


def test_one_request_at_a_time_across_downloaders(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader, tmp_path: Path
) -> None:
    for n in range(3):
        loopback_server.add_sequence(f"/f{n}", [Response.slow(0.2, BODY)])
    downloaders = [make_downloader() for _ in range(3)]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            downloaders[n].fetch(
                loopback_server.url(f"f{n}"), source="s", name=f"f{n}", expect="text"
            )
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == []
    reqs = sorted(loopback_server.requests, key=lambda r: r.time)
    assert len(reqs) == 3
    for earlier, later in itertools.pairwise(reqs):
        assert later.time - earlier.time >= 0.19  # the next started only after the slow one


def test_min_interval_spaces_requests(
    loopback_server: LoopbackServer, make_downloader: MakeDownloader
) -> None:
    loopback_server.add("/a", BODY)
    loopback_server.add("/b", BODY)
    dl = make_downloader(min_interval_s=0.3)
    dl.fetch(loopback_server.url("a"), source="s", name="a", expect="text")
    dl.fetch(loopback_server.url("b"), source="s", name="b", expect="text")
    first, second = loopback_server.requests
    assert second.time - first.time >= 0.28


def test_each_request_is_logged(
    loopback_server: LoopbackServer,
    make_downloader: MakeDownloader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    loopback_server.add("/oe.area", BODY)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        fetch_text(make_downloader(), loopback_server)
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(
        line.startswith("GET ")
        and loopback_server.url("oe.area") in line
        and "200" in line
        and f"{len(BODY)} bytes" in line
        for line in lines
    )


# --- local copies ----------------------------------------------------------------------


def test_describe_local_file(tmp_path: Path) -> None:
    path = tmp_path / "oe.area"
    path.write_bytes(BODY)
    got = describe_local_file(path, source="oews", name="oe.area", expect="text")
    assert got.sha256 == hashlib.sha256(BODY).hexdigest()
    assert got.bytes == len(BODY)
    assert got.url == path.resolve().as_uri() and got.url.startswith("file://")
    assert got.path == path and got.from_cache is False and got.etag is None
    assert got.last_modified is not None
    assert datetime.fromisoformat(got.last_modified).tzinfo is not None


def test_describe_local_file_rejects_missing_empty_and_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist") as info:
        describe_local_file(tmp_path / "nope", source="oews", name="oe.area", expect="text")
    assert info.value.source == "oews"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        describe_local_file(empty, source="oews", name="oe.area", expect="text")
    page = tmp_path / "saved.xlsx"
    page.write_bytes(b"<!DOCTYPE html><html></html>")
    with pytest.raises(SourceError, match="web page"):
        describe_local_file(page, source="naics", name="naics.xlsx", expect="xlsx")


def test_source_error_message_format() -> None:
    err = SourceError("oews", "it broke", "fix it", url="http://127.0.0.1/x")
    assert str(err) == "[oews] it broke (URL: http://127.0.0.1/x)\nWhat to do: fix it"
    assert str(SourceError("soc", "p", "r")) == "[soc] p\nWhat to do: r"
    assert (err.source, err.problem, err.remedy, err.url) == (
        "oews",
        "it broke",
        "fix it",
        "http://127.0.0.1/x",
    )
