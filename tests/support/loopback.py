"""A real HTTP server on 127.0.0.1 with scripted misbehaviour, for download tests.

Tests talk to it through real sockets, so retries, timeouts, truncation and resets are
exercised exactly as the downloader meets them on the internet, without any mocking.
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

DEFAULT_LAST_MODIFIED = "Tue, 01 Apr 2025 12:00:00 GMT"
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Access Denied</title></head>"
    b"<body><h1>Access Denied</h1><p>You don't have permission to access this resource."
    b"</p></body></html>\n"
)
_AUTO = "auto"


@dataclass
class Response:
    """One scripted answer. Defaults give a plain 200 with an exact Content-Length."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/octet-stream"
    etag: str | None = None  # enables 304 on matching If-None-Match
    last_modified: str | None = None  # enables 304 on If-Modified-Since >= this
    announce_length: int | None = None  # Content-Length to send; default len(body)
    send_length: bool = True  # False: no Content-Length, the body ends when the socket closes
    reset_after: int | None = None  # send this many body bytes, then RST the socket
    delay_s: float = 0.0  # sleep before answering (for client timeouts)

    @classmethod
    def truncated(cls, body: bytes, missing: int = 100, **kw: Any) -> Response:
        """Announce more bytes than are sent, then close the connection normally."""
        return cls(body=body, announce_length=len(body) + missing, **kw)

    @classmethod
    def close_delimited(cls, body: bytes, **kw: Any) -> Response:
        """No Content-Length, not chunked: the body is whatever arrives before the close (so a
        body cut short looks whole to the client)."""
        return cls(body=body, send_length=False, **kw)

    @classmethod
    def reset_mid_body(cls, body: bytes, after: int | None = None, **kw: Any) -> Response:
        """Send the headers and part of the body, then reset the TCP connection."""
        return cls(body=body, reset_after=len(body) // 2 if after is None else after, **kw)

    @classmethod
    def slow(cls, delay_s: float, body: bytes = b"late\n", **kw: Any) -> Response:
        """Answer only after delay_s seconds."""
        return cls(body=body, delay_s=delay_s, **kw)

    @classmethod
    def html_page(cls, status: int = 200, body: bytes = HTML_ERROR_PAGE) -> Response:
        """A web page such as a block or error page (served with 200 by default)."""
        return cls(status=status, body=body, content_type="text/html; charset=utf-8")

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status=status, headers={"Location": location})

    @classmethod
    def error(
        cls, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        return cls(
            status=status,
            body=body or f"error {status}\n".encode(),
            headers=dict(headers or {}),
            content_type="text/plain",
        )


@dataclass
class RecordedRequest:
    """What the server saw. Times are time.monotonic(); `status` is set before the status
    line is sent, `finished` only after the handler wrote everything (it may lag the client).
    """

    method: str
    path: str
    headers: dict[str, str]
    time: float
    finished: float | None = None
    status: int | None = None

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


class _Route:
    def __init__(self, responses: Sequence[Response]):
        if not responses:
            raise ValueError("a route needs at least one response")
        self._responses = list(responses)
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> Response:
        with self._lock:
            resp = self._responses[min(self._next, len(self._responses) - 1)]
            self._next += 1
            return resp


def _not_modified(headers: Any, resp: Response) -> bool:
    inm = headers.get("If-None-Match")
    if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = [t.strip() for t in inm.split(",")]
        return resp.etag is not None and ("*" in tags or resp.etag in tags)
    ims = headers.get("If-Modified-Since")
    if ims and resp.last_modified:
        try:
            since = email.utils.parsedate_to_datetime(ims)
            modified = email.utils.parsedate_to_datetime(resp.last_modified)
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


class _Handler(BaseHTTPRequestHandler):
    """Serves LoopbackServer routes, one request per connection (Connection: close)."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        owner = self.server.owner
        record = RecordedRequest(
            self.command, self.path, dict(self.headers.items()), time.monotonic()
        )
        owner._record(record)
        self._current = record
        self.close_connection = True
        try:
            resp = owner._response_for(self.path, record.header("User-Agent") or "")
            self._write(resp, head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (e.g. it timed out)
        finally:
            record.finished = time.monotonic()

    def send_response(self, code: int, message: str | None = None) -> None:
        # Record the status before any byte reaches the client, so a test that asserts
        # right after its request returns never races this thread.
        current: RecordedRequest | None = getattr(self, "_current", None)
        if current is not None:
            current.status = code
        super().send_response(code, message)

    def _write(self, resp: Response, *, head: bool) -> None:
        if resp.delay_s and self.server.owner._stopping.wait(resp.delay_s):
            return
        if _not_modified(self.headers, resp):
            self.send_response(304)
            self._validators(resp)
            self.send_header("Connection", "close")
            self.end_headers()
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        length = len(resp.body) if resp.announce_length is None else resp.announce_length
        if resp.send_length:
            self.send_header("Content-Length", str(length))
        self._validators(resp)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if resp.reset_after is None:
            self.wfile.write(resp.body)
            self.wfile.flush()
            return
        self.wfile.write(resp.body[: resp.reset_after])
        self.wfile.flush()
        time.sleep(0.05)  # let the client read the headers and partial body first
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _validators(self, resp: Response) -> None:
        if resp.etag:
            self.send_header("ETag", resp.etag)
        if resp.last_modified:
            self.send_header("Last-Modified", resp.last_modified)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for a deliberately slow handler on shutdown
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # sockets we reset on purpose raise here; tests assert on records instead


class LoopbackServer:
    """Programmable HTTP server on 127.0.0.1; use as a context manager."""

    def __init__(self, *, require_user_agent_contact: bool = False):
        self.require_user_agent_contact = require_user_agent_contact
        self._routes: dict[str, _Route] = {}
        self._records: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> LoopbackServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    # routes
    def add(
        self,
        path: str,
        body: bytes,
        *,
        etag: str | None = _AUTO,
        last_modified: str | None = DEFAULT_LAST_MODIFIED,
        content_type: str = "text/plain; charset=utf-8",
        status: int = 200,
    ) -> Response:
        """Serve `body` with validators; etag defaults to a hash of the body (None: omit)."""
        if etag == _AUTO:
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        resp = Response(
            status=status,
            body=body,
            etag=etag,
            last_modified=last_modified,
            content_type=content_type,
        )
        self.add_sequence(path, [resp])
        return resp

    def add_sequence(self, path: str, responses: Sequence[Response]) -> None:
        """Each request to `path` consumes the next response; the last one repeats."""
        with self._lock:
            self._routes[self._key(path)] = _Route(responses)

    def add_redirect_loop(self, path: str, other: str | None = None) -> None:
        """`path` redirects to itself, or to `other` which redirects back."""
        if other is None:
            self.add_sequence(path, [Response.redirect(self._key(path))])
            return
        self.add_sequence(path, [Response.redirect(self._key(other))])
        self.add_sequence(other, [Response.redirect(self._key(path))])

    def _response_for(self, raw_path: str, agent: str) -> Response:
        if self.require_user_agent_contact and "@" not in agent:
            return Response.html_page(status=403)
        with self._lock:
            route = self._routes.get(self._key(raw_path))
        return route.take() if route else Response.error(404, b"not found\n")

    @staticmethod
    def _key(path: str) -> str:
        return "/" + urlsplit(path).path.lstrip("/")

    # inspection
    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        key = self._key(path)
        return [r for r in self.requests if self._key(r.path) == key]

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()


__all__ = ["HTML_ERROR_PAGE", "LoopbackServer", "RecordedRequest", "Response"]
