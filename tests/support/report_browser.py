"""Open generated report pages in headless Chromium with networking disabled.

Used by the report browser test and by `make screenshot` (the README's report picture). Every
request that is not a local file is aborted and recorded, so a page that needs the network fails.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ui_screenshot import BROWSER_ARGS, chromium


@dataclass
class PageReport:
    path: Path
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    chart_slots: int = 0
    charts_rendered: int = 0
    chart_svgs: int = 0
    tables: int = 0
    title: str = ""
    evaluated: dict = field(default_factory=dict)


def shot_name(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}.png"


def inspect_pages(
    paths: list[Path],
    screenshot_dir: Path | None = None,
    evaluate: str | None = None,
    full_page: bool = True,
    width: int = 1280,
    media: str | None = None,
) -> list[PageReport]:
    """Load each page offline; count chart slots, rendered Plotly plots and tables."""
    from playwright.sync_api import sync_playwright

    reports = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=BROWSER_ARGS)
        try:
            context = browser.new_context(
                offline=True, viewport={"width": width, "height": 900}, java_script_enabled=True
            )
            for path in paths:
                report = PageReport(path)
                page = context.new_page()

                def block(route, report=report) -> None:
                    if route.request.url.startswith("file://"):
                        route.continue_()
                    else:
                        report.blocked_requests.append(route.request.url)
                        route.abort()

                page.route("**/*", block)
                page.on(
                    "console",
                    lambda m, r=report: (
                        r.console_errors.append(m.text) if m.type == "error" else None
                    ),
                )
                page.on("pageerror", lambda e, r=report: r.page_errors.append(str(e)))
                if media:
                    page.emulate_media(media=media)
                page.goto(path.resolve().as_uri(), wait_until="load")
                page.wait_for_timeout(300)
                report.title = page.title()
                report.chart_slots = page.locator("[data-chart]").count()
                report.charts_rendered = page.locator("[data-chart].js-plotly-plot").count()
                report.chart_svgs = page.locator("[data-chart] svg.main-svg").count()
                report.tables = page.locator("table").count()
                if evaluate:
                    report.evaluated = page.evaluate(evaluate)
                if screenshot_dir:
                    screenshot_dir.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot_dir / shot_name(path)), full_page=full_page)
                page.close()
                reports.append(report)
        finally:
            browser.close()
    return reports


def main(argv: list[str]) -> int:
    """`python -m tests.support.report_browser PAGE.html OUT.png`: the README's screenshot."""
    page, out = Path(argv[0]), Path(argv[1])
    [report] = inspect_pages([page], screenshot_dir=out.parent, full_page=False, width=1200)
    (out.parent / shot_name(page)).replace(out)
    print(
        f"{out}: {report.charts_rendered}/{report.chart_slots} charts, errors: "
        f"{report.console_errors + report.page_errors}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
