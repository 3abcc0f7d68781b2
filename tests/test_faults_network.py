"""Network faults at pipeline level: the refresh against misbehaving publisher servers.

tests/test_http_download.py proves the downloader's answer to each fault; here the whole refresh
runs on a copy of a good warehouse and its reports, and must fail with a message naming the
source, the problem and the remedy, leaving every table and report byte as it was. Transient
faults (429 with Retry-After, 500 then success) must be recovered from: see the re-run after a
killed run in tests/test_faults_storage.py.
"""

from __future__ import annotations

import pytest

from tests.support.faults import (
    Case,
    assert_explained,
)
from tests.support.loopback import Response
from tests.support.pipeline import failure_text
from tests.test_oews_live import EP_XLSX, NAICS_XLSX

OEWS = "/oe/"
NAICS, EP, ONET = "/naics.xlsx", "/emp/occupation.xlsx", "/onet/db_29_1_text.zip"


def body(case: Case, route: str) -> bytes:
    """The good bytes served at `route`."""
    if route.startswith(OEWS):
        return (case.bls_files / route.removeprefix(OEWS)).read_bytes()
    return (
        {NAICS: NAICS_XLSX, EP: EP_XLSX}[route].read_bytes()
        if route != ONET
        else (case.baseline.onet_zip)
    )


def injected(case: Case, route: str, kind: str) -> list[Response]:
    """The scripted answers for one network fault."""
    good = body(case, route)
    if kind == "redirect-loop":
        return [Response.redirect(route)]
    return [
        {
            "403": Response.error(403, b"Forbidden"),
            "404": Response.error(404, b"Not Found"),
            "empty-body": Response(body=b""),
            "reset-mid-body": Response.reset_mid_body(good),
            "timeout": Response.slow(2.0, good),
            "short-body": Response.truncated(good, missing=5_000),
            "html-page-200": Response.html_page(),
        }[kind]
    ]


# Each download is its own step, so one run breaks four sources at once, each in its own way,
# and each failure must name its source: (route, fault, source, fragments of the message).
NETWORK_RUNS = [
    [
        (OEWS + "oe.data.0.Current", "403", "oews", ["403 Forbidden", "User-Agent", "CCP_CONTACT"]),
        (NAICS, "404", "naics", ["404 Not Found", "naics.xlsx", "Check CCP_NAICS_URL"]),
        (EP, "reset-mid-body", "ep", ["occupation.xlsx failed after 2 attempts", "reset mid-body"]),
        (ONET, "html-page-200", "onet", ["a web page instead of the data file", "CCP_CONTACT"]),
    ],
    [
        (OEWS + "oe.area", "timeout", "oews", ["oe.area failed after 2 attempts", "timed out"]),
        (NAICS, "short-body", "naics", ["shorter than announced", "Retry later"]),
        (EP, "redirect-loop", "ep", ["a redirect loop", "check CCP_EP_URL"]),
        (ONET, "empty-body", "onet", ["the server returned an empty (0-byte) file"]),
    ],
]


@pytest.mark.parametrize(
    "faults", NETWORK_RUNS, ids=["+".join(f[1] for f in run) for run in NETWORK_RUNS]
)
def test_network_faults_fail_clearly_and_lose_nothing(
    fault: Case, faults: list[tuple[str, str, str, list[str]]]
) -> None:
    for route, kind, _, _ in faults:
        fault.server.add_sequence(route, injected(fault, route, kind))
    result = fault.run(http_timeout_s=0.3)  # the good files arrive in milliseconds
    assert not result.success
    message = failure_text(result)
    for route, _, source, fragments in faults:
        assert_explained(message, source, *fragments)
        assert fault.server.url(route) in message
    fault.assert_intact()


def test_no_contact_is_refused_before_any_request(fault: Case) -> None:
    """BLS answers 403 to anonymous clients: without CCP_CONTACT nothing is even requested."""
    fault.server.clear_requests()
    result = fault.run(contact=None)
    assert not result.success
    assert_explained(failure_text(result), "settings", "CCP_CONTACT", "403 Forbidden")
    assert fault.server.requests == []
    fault.assert_intact()
