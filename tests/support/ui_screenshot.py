"""Start the Dagster webserver on 127.0.0.1, ask it for the asset graph, and screenshot the UI.

Used by the UI test and by `make screenshot` (the README's picture). Headless Chromium runs with
networking limited to loopback, so the page must render from the local server alone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSET_QUERY = """
{ assetNodes { assetKey { path } groupName description } }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dagster_home() -> str:
    """A fresh DAGSTER_HOME with the project's instance settings."""
    home = tempfile.mkdtemp(prefix="ccp-dagster-home-")
    shutil.copyfile(REPO / "pipelines" / "dagster.yaml", Path(home) / "dagster.yaml")
    return home


@contextmanager
def webserver(env: dict[str, str] | None = None, timeout_s: float = 120.0) -> Iterator[str]:
    """`dagster dev` (webserver + daemon) for this repo's workspace; yields its base URL.

    Pass DAGSTER_HOME in `env` to show an existing instance's runs; otherwise a fresh one.
    """
    port = free_port()
    env = dict(env or {})
    owns_home = "DAGSTER_HOME" not in env
    home = env.setdefault("DAGSTER_HOME", dagster_home())
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster")),
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop webserver, daemon, code server
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"dagster dev exited: {log.read().decode()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("dagster dev did not start")
            time.sleep(0.5)
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        if owns_home:
            shutil.rmtree(home, ignore_errors=True)


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        payload = json.loads(resp.read())
    if payload.get("errors"):
        raise RuntimeError(payload["errors"])
    return payload["data"]


def asset_nodes(url: str) -> list[dict]:
    return graphql(url, ASSET_QUERY)["assetNodes"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@contextmanager
def asset_groups_page(url: str, width: int, height: int) -> Iterator[object]:
    """The UI's global asset lineage in headless Chromium (closed on leaving the block)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            # The UI asks first-time users to join its community; record that it was answered.
            page.add_init_script("localStorage.setItem('communityNux', '1')")
            page.goto(f"{url}/asset-groups", wait_until="networkidle")
            yield page
        finally:
            browser.close()


def shoot(page: object, out: Path, clip: dict, height: int) -> Path:
    """Screenshot `clip` of the page with the pointer parked in a corner (no hover tooltip)."""
    page.mouse.move(2, height - 2)
    page.wait_for_timeout(300)
    page.screenshot(path=str(out), clip=clip)
    return out


def asset_graph_screenshot(
    url: str, out: Path, *, width: int = 2400, height: int = 5000, zoom_out_clicks: int = 8
) -> Path:
    """The global asset lineage with every group expanded, fitted to the window."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with asset_groups_page(url, width, height) as page:
        expand_all_groups(page)  # remembered in localStorage
        page.reload(wait_until="networkidle")  # re-render so the expanded graph is fitted
        hide_side_panels(page)
        page.wait_for_timeout(1000)
        expected = len(asset_nodes(url))
        fit_graph(page, width, height, max_clicks=zoom_out_clicks, expected=expected)
        center_graph(page, width, height)
        page.wait_for_timeout(1500)
        boxes = node_boxes(page)
        if not boxes:
            page.screenshot(path=str(out.with_suffix(".failed.png")))
            raise RuntimeError(f"no asset labels rendered; see {out.with_suffix('.failed.png')}")
        if len(boxes) < expected:  # the graph draws only what is in view: the shot is cropped
            print(
                f"warning: {len(boxes)} of {expected} asset labels in view; {out} shows part "
                "of the graph (try a larger window)",
                file=sys.stderr,
            )
        return shoot(
            page, out, clip_around(boxes, width, height, margin=60, left_margin=150), height
        )


NODE_BOXES_JS = """() => [...document.querySelectorAll('*')]
  .filter(e => e.children.length === 0 && /^(raw|stg|int|out)_/.test(e.textContent.trim()))
  .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""


GROUP_BOXES_JS = """(names) => [...document.querySelectorAll('*')]
  .filter(e => e.children.length === 0 && names.includes(e.textContent.trim()))
  .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""
STAGES = ["sources", "staging", "qualify", "clusters", "profiles"]


def asset_groups_screenshot(url: str, out: Path, *, width: int = 1400, height: int = 800) -> Path:
    """The global lineage with the groups collapsed: the five stages and how they connect."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with asset_groups_page(url, width, height) as page:
        page.get_by_text("staging", exact=True).first.wait_for(timeout=30_000)
        hide_side_panels(page)  # the group tree lists the same names as the graph
        page.wait_for_timeout(1500)
        boxes = page.evaluate(GROUP_BOXES_JS, STAGES)
        if len(boxes) < len(STAGES):
            raise RuntimeError(f"expected the {len(STAGES)} stage groups, found {len(boxes)}")
        return shoot(
            page, out, clip_around(boxes, width, height, margin=40, left_margin=40), height
        )


def hide_side_panels(page: object) -> None:
    """Hide the UI's navigation and the group tree beside the graph."""
    page.get_by_role("button", name="Hide navigation").click()
    tree_toggle = page.locator("[aria-label=panel_show_right]")
    if tree_toggle.count():
        tree_toggle.first.click()


def clip_around(
    boxes: list[list[float]], width: int, height: int, *, margin: float, left_margin: float
) -> dict[str, float]:
    """The screenshot clip around `boxes` (left, top, right, bottom), inside the window."""
    left = max(min(b[0] for b in boxes) - left_margin, 0)
    top = max(min(b[1] for b in boxes) - margin, 0)
    right = min(max(b[2] for b in boxes) + margin, width)
    bottom = min(max(b[3] for b in boxes) + margin, height)
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def expand_all_groups(page: object, attempts: int = 3) -> None:
    """Press the graph's expand-all shortcut once the collapsed groups are drawn, until the
    asset labels show (the shortcut is lost if pressed before the graph has rendered)."""
    page.get_by_text("staging", exact=True).first.wait_for(timeout=30_000)
    for _ in range(attempts):
        page.keyboard.press("Alt+KeyE")
        if node_boxes(page, wait_s=5.0):
            return
    raise RuntimeError("the asset graph's groups did not expand (Alt+E)")


def node_boxes(page: object, wait_s: float = 15.0) -> list[list[float]]:
    """The asset labels' boxes, waiting up to `wait_s` for the graph to draw them (a busy
    machine can take seconds after a zoom)."""
    deadline = time.monotonic() + wait_s
    while True:
        boxes = page.evaluate(NODE_BOXES_JS)
        if boxes or time.monotonic() > deadline:
            return boxes
        page.wait_for_timeout(250)


def fit_graph(page: object, width: int, height: int, max_clicks: int, expected: int) -> None:
    """Zoom out until every asset node fits, but not so far that labels stop rendering. The
    graph draws only the nodes in view, so all `expected` labels must be there first."""
    for _ in range(max_clicks):
        boxes = node_boxes(page)
        if len(boxes) >= expected:
            span_x = max(b[2] for b in boxes) - min(b[0] for b in boxes)
            span_y = max(b[3] for b in boxes) - min(b[1] for b in boxes)
            if span_x < width * 0.85 and span_y < (height - 120) * 0.9:
                return
        page.locator("[aria-label=zoom_out]").first.click()
        page.wait_for_timeout(400)
        if not node_boxes(page, wait_s=3.0):
            page.locator("[aria-label=zoom_in]").first.click()
            page.wait_for_timeout(400)
            return


def center_graph(page: object, width: int, height: int) -> None:
    """Drag the canvas so the union of the asset nodes sits in the middle of the window."""
    boxes = node_boxes(page)
    if not boxes:
        return
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
    dx, dy = width / 2 - (left + right) / 2, (height + 90) / 2 - (top + bottom) / 2
    start = (width * 0.5, height * 0.5)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + dx, start[1] + dy, steps=10)
    page.mouse.up()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img/asset-graph.png")
    with tempfile.TemporaryDirectory(prefix="ccp-screenshot-") as tmp:
        env = {
            "DAGSTER_HOME": dagster_home(),
            "CCP_WAREHOUSE_PATH": str(Path(tmp) / "warehouse.duckdb"),
        }
        ccp = Path(sys.executable).with_name("ccp")
        subprocess.run(
            [str(ccp), "run"], env={**os.environ, **env}, check=True, capture_output=True
        )
        with webserver(env) as url:
            nodes = asset_nodes(url)
            print(f"{len(nodes)} assets in groups {sorted({n['groupName'] for n in nodes})}")
            asset_groups_screenshot(url, out.with_name("asset-groups.png"))
            asset_graph_screenshot(url, out)
        shutil.rmtree(env["DAGSTER_HOME"], ignore_errors=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
