"""Plotly figures for the cluster reports, each with a text summary and a data-table alternative.

Figures are emitted as JSON (rendered by report.js with the one shared plotly.min.js), so a page
carries only its data. Every string from data is HTML-escaped before it reaches Plotly, which
renders a subset of HTML in labels: a name like `<b>` shows as text, never as markup. The state
map is in `state_map.py`.
"""

from __future__ import annotations

import textwrap
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from pipelines.reporting.plotly_json import Chart, base_layout, esc, figure, trace

# Colour-blind-safe, >= 4.5:1 on white for text-bearing marks (Okabe-Ito, darkened).
BLUE = "#0b5394"
ORANGE = "#b45309"
GREEN = "#1b7a4b"


def tick_label(name: str, width: int = 50) -> str:
    """An axis label for Plotly: escaped, and a long name (BLS's government sector name is 96
    characters) broken into lines, between words, so that the bars keep the chart's width."""
    lines = textwrap.wrap(name, width, break_on_hyphens=False)
    return "<br>".join(esc(line) for line in lines) or esc(name)


def half_up(value: float | int, digits: int = 0) -> Decimal:
    """`value` rounded as a reader rounds it: half away from zero, on the decimal the value
    prints as (a median of $46.805 shows as $46.81, where a float's binary form would round it
    down and `round` rounds halves to even)."""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # never "-0"


def fmt_int(value: float | int | None) -> str:
    return "—" if value is None else f"{half_up(value):,}"


def fmt_usd(value: float | None) -> str:
    return "—" if value is None else f"${half_up(value):,}"


def fmt_usd2(value: float | None) -> str:
    return "—" if value is None else f"${half_up(value, 2):,}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _empty_sub_cluster(row: dict) -> str:
    """Why a sub-cluster has no qualifying occupation, for the chart's summary."""
    assigned = row.get("assigned_occupations") or 0
    why = (
        f"its {assigned} assigned occupation{'s do' if assigned > 1 else ' does'} not qualify "
        "(the occupations table says why)"
        if assigned
        else "no occupation in the data is assigned to it"
    )
    note = f" {row['data_note']}" if row.get("data_note") else ""
    return f" No qualifying occupation in {row['sub_cluster_name']}: {why}.{note}"


def sub_cluster_chart(sub_clusters: pl.DataFrame) -> Chart:
    """Qualifying employment per sub-cluster (sub_cluster_name, occupations, employment; and,
    to say why a sub-cluster is empty, assigned_occupations and data_note when given)."""
    frame = sub_clusters.sort("employment", "sub_cluster_name", descending=[False, True])
    names = [esc(n) for n in frame["sub_cluster_name"]]
    fig = figure(
        [
            trace(
                "bar",
                x=frame["employment"].to_list(),
                y=names,
                orientation="h",
                marker={"color": BLUE},
                customdata=[
                    f"{n} qualifying occupation{'' if n == 1 else 's'}"
                    for n in frame["occupations"]
                ],
                hovertemplate="%{y}<br>%{x:,} jobs in %{customdata}<extra></extra>",
                # an empty bar says why it is empty, a little apart from the axis and its label
                # (non-breaking spaces: SVG text collapses ordinary ones)
                text=[
                    "" if n else "\u00a0\u00a0no qualifying occupation"
                    for n in frame["occupations"]
                ],
                textposition="outside",
                cliponaxis=False,
            )
        ],
        base_layout(
            max(220, 60 + 34 * frame.height),
            xaxis={"title": {"text": "Jobs in qualifying occupations"}, "tickformat": ",d"},
            yaxis={"automargin": True},
        ),
    )
    top = frame.sort("employment", descending=True).row(0, named=True) if frame.height else None
    summary = (
        f"{frame.height} sub-clusters. The largest by qualifying employment is "
        f"{top['sub_cluster_name']} with {fmt_int(top['employment'])} jobs in "
        f"{top['occupations']} occupations."
        if top and top["employment"]
        else "No sub-cluster has qualifying employment."
    )
    if top and top["employment"]:
        summary += "".join(
            map(
                _empty_sub_cluster,
                frame.filter(pl.col("occupations") == 0)
                .sort("sub_cluster_name")
                .iter_rows(named=True),
            )
        )
    rows = [
        [r["sub_cluster_name"], fmt_int(r["occupations"]), fmt_int(r["employment"])]
        for r in frame.sort("employment", descending=True).iter_rows(named=True)
    ]
    return Chart(
        "chart-sub-clusters",
        "Qualifying employment by sub-cluster",
        summary,
        ["Sub-cluster", "Qualifying occupations", "Jobs"],
        rows,
        fig,
        [
            "An occupation in several sub-clusters counts in each, so bars can add up to more "
            "than the cluster total."
        ],
    )


def industry_chart(
    sectors: pl.DataFrame, limit: int = 12, has_industry_estimates: bool = True
) -> Chart:
    """Top NAICS sectors by the cluster's qualifying employment; without any, a sentence that
    says why (no chart: an empty one reads as a broken page)."""
    if not sectors.height:
        why = (
            "No sector employment is published for the cluster's qualifying occupations."
            if has_industry_estimates
            else "BLS's industry estimates were not loaded for this release, which came from "
            "BLS's national workbook alone. The project's README (History backfill) says how to "
            "add the release's industry workbooks."
        )
        return Chart("chart-industries", "Industry sectors", why, [], [], None)
    frame = sectors.sort("employment_count", "industry_name", descending=[True, False]).head(limit)
    shown = frame.reverse()
    labels = [tick_label(n) for n in shown["industry_name"]]
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    fig = figure(
        [
            trace(
                "bar",
                x=shown["employment_count"].to_list(),
                y=labels,
                orientation="h",
                marker={"color": GREEN},
                customdata=[round(100 * (s or 0), 1) for s in shown["employment_share"]],
                hovertemplate="%{y}<br>%{x:,} jobs (%{customdata}% of the cluster's qualifying "
                "jobs)<extra></extra>",
            )
        ],
        base_layout(
            max(220, 60 + max(30, 16 * lines + 8) * shown.height),
            xaxis={
                "title": {"text": "Jobs in the cluster's qualifying occupations"},
                "tickformat": ",d",
            },
            yaxis={"automargin": True},
        ),
    )
    first = frame.row(0, named=True)
    summary = (
        f"The cluster's qualifying occupations work mostly in {first['industry_name']} "
        f"({fmt_int(first['employment_count'])} jobs, "
        f"{fmt_pct(first['employment_share'])} of the cluster's qualifying jobs)."
    )
    rows = [
        [
            r["industry_name"],
            fmt_int(r["employment_count"]),
            fmt_pct(r["employment_share"]),
            r["top_occupations"] or "—",
        ]
        for r in frame.iter_rows(named=True)
    ]
    return Chart(
        "chart-industries",
        f"Top {min(limit, frame.height)} industry sectors",
        summary,
        [
            "NAICS sector",
            "Jobs",
            "Share of the cluster's qualifying jobs",
            "Largest occupations",
        ],
        rows,
        fig,
    )


def wage_chart(occupations: pl.DataFrame, threshold_annual_usd: float, limit: int = 30) -> Chart:
    """Annual wage percentile ranges (p10-p90, p25-p75, median) of the largest qualifying
    occupations, with the living-wage threshold."""
    frame = (
        occupations.filter(pl.col("status") == "qualifies")
        .sort("employment_count", "occupation_name", descending=[True, False], nulls_last=True)
        .head(limit)
        .sort("wage_annual_median_usd", "occupation_name", nulls_last=False)
    )
    names = [esc(n) for n in frame["occupation_name"]]

    def segments(lo: str, hi: str) -> tuple[list, list]:
        xs, ys = [], []
        for name, a, b in zip(names, frame[lo], frame[hi], strict=True):
            if a is not None and b is not None:
                xs += [a, b, None]
                ys += [name, name, None]
        return xs, ys

    outer_x, outer_y = segments("wage_annual_p10_usd", "wage_annual_p90_usd")
    inner_x, inner_y = segments("wage_annual_p25_usd", "wage_annual_p75_usd")
    fig = figure(
        [
            trace(
                "scatter",
                x=outer_x,
                y=outer_y,
                mode="lines",
                line={"color": "#9db7d5", "width": 4},
                hoverinfo="skip",
                name="10th to 90th percentile",
            ),
            trace(
                "scatter",
                x=inner_x,
                y=inner_y,
                mode="lines",
                line={"color": BLUE, "width": 10},
                hoverinfo="skip",
                name="25th to 75th percentile",
            ),
            trace(
                "scatter",
                x=frame["wage_annual_median_usd"].to_list(),
                y=names,
                mode="markers",
                marker={"color": "#ffffff", "size": 9, "line": {"color": "#000000", "width": 2}},
                name="Median",
                hovertemplate="%{y}<br>median $%{x:,.0f}<extra></extra>",
            ),
        ],
        base_layout(
            max(260, 80 + 24 * frame.height),
            showlegend=True,
            legend={"orientation": "h", "y": 0, "yref": "container", "yanchor": "bottom"},
            margin={"l": 10, "r": 20, "t": 30, "b": 90},
            xaxis={"title": {"text": "Annual wage (USD)"}, "tickformat": "$,.0f"},
            yaxis={"automargin": True},
            shapes=[
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": threshold_annual_usd,
                    "x1": threshold_annual_usd,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": ORANGE, "dash": "dash", "width": 2},
                }
            ],
            annotations=[
                {
                    "x": threshold_annual_usd,
                    "xref": "x",
                    "y": 1,
                    "yref": "paper",
                    "text": f"living wage ${threshold_annual_usd:,.0f}",
                    "showarrow": False,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "font": {"color": ORANGE},
                }
            ],
        ),
    )
    medians = frame["wage_annual_median_usd"].drop_nulls()
    summary = (
        f"Annual wage ranges of the {frame.height} largest qualifying occupations (by jobs), "
        "ordered by median wage. Their median "
        f"wages run from {fmt_usd(medians.min())} to {fmt_usd(medians.max())}; the living-wage "
        f"threshold is {fmt_usd(threshold_annual_usd)} a year."
        if medians.len()
        else "No qualifying occupation has a published annual median wage."
    )
    cols = [
        "wage_annual_p10_usd",
        "wage_annual_p25_usd",
        "wage_annual_median_usd",
        "wage_annual_p75_usd",
        "wage_annual_p90_usd",
    ]
    rows = [
        [r["occupation_name"], *[fmt_usd(r[c]) for c in cols]]
        for r in frame.reverse().iter_rows(named=True)
    ]
    notes = (
        [
            "In the data table, '—' means BLS did not publish the value (suppressed, or at or "
            "above its top code)."
        ]
        if any("—" in row for row in rows)
        else []
    )
    return Chart(
        "chart-wages",
        "Wage ranges of the largest qualifying occupations",
        summary,
        ["Occupation", "10th pct", "25th pct", "Median", "75th pct", "90th pct"],
        rows,
        fig,
        notes,
    )


def outlook_chart(occupations: pl.DataFrame, projection: str | None, limit: int = 15) -> Chart:
    """Annual openings and 10-year growth (BLS Employment Projections) of qualifying occupations."""
    frame = (
        occupations.filter(
            (pl.col("status") == "qualifies") & pl.col("openings_annual_thousands").is_not_null()
        )
        .sort("openings_annual_thousands", "occupation_name", descending=[True, False])
        .head(limit)
    )
    title = "Outlook: annual openings and projected growth"
    if not frame.height:
        summary = (
            f"No qualifying occupation has projected openings in BLS EP {projection}."
            if projection
            else "BLS Employment Projections were not loaded for this report, so openings and "
            "growth are not shown. A researcher can load them (from BLS, or a copy of its EP "
            "workbook; see the project's README, Data sources) and render the reports again."
        )
        return Chart("chart-outlook", title, summary, [], [], None)
    shown = frame.reverse()
    fig = figure(
        [
            trace(
                "bar",
                x=[round(1000 * v) for v in shown["openings_annual_thousands"]],
                y=[esc(n) for n in shown["occupation_name"]],
                orientation="h",
                marker={"color": ORANGE},
                customdata=[
                    None if v is None else round(v, 1) for v in shown["employment_change_pct"]
                ],
                hovertemplate="%{y}<br>%{x:,} openings a year; employment change %{customdata}%"
                "<extra></extra>",
            )
        ],
        base_layout(
            max(220, 60 + 28 * shown.height),
            xaxis={
                "title": {"text": f"Average annual openings, {projection or 'EP'}"},
                "tickformat": ",d",
            },
            yaxis={"automargin": True},
        ),
    )
    first = frame.row(0, named=True)
    summary = (
        f"{first['occupation_name']} has the most projected openings among the cluster's "
        f"qualifying occupations: about {fmt_int(1000 * first['openings_annual_thousands'])} a "
        f"year over {projection or 'the projection period'}."
    )
    rows = [
        [
            r["occupation_name"],
            fmt_int(1000 * r["openings_annual_thousands"]),
            "—" if r["employment_change_pct"] is None else f"{r['employment_change_pct']:.1f}%",
        ]
        for r in frame.iter_rows(named=True)
    ]
    return Chart(
        "chart-outlook",
        title,
        summary,
        ["Occupation", "Openings a year", "Employment change"],
        rows,
        fig,
    )
