"""The state chart of a cluster report: a US tile-grid map of the location quotient, which
renders offline (no geography files), with its text summary and data table."""

from __future__ import annotations

import polars as pl

from pipelines.reporting.charts import fmt_int
from pipelines.reporting.plotly_json import Chart, base_layout, esc, figure, trace
from pipelines.reporting.tile_grid import STATE_TILES


def plural(count: int, noun: str) -> str:
    """ "1 occupation", "3 occupations" (nouns that take an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _state_hover(row: dict) -> str:
    lq = row["location_quotient"]
    text = (
        f"{esc(row['area_name'])}<br>{fmt_int(row['employment_count'])} jobs<br>"
        f"location quotient {'—' if lq is None else f'{lq:.2f}'}"
    )
    if row["suppressed_occupation_count"]:
        text += (
            f"<br>{plural(row['suppressed_occupation_count'], 'occupation')} not published: "
            "the jobs are a lower bound, the quotient is of the published ones"
        )
    return text


def state_chart(states: pl.DataFrame, has_state_estimates: bool = True) -> Chart:
    """US tile-grid map of the location quotient: renders offline (no geography files).
    Without a state row, a sentence that says why instead of an empty map."""
    if not states.height:
        why = (
            "No state employment is published for the cluster's qualifying occupations."
            if has_state_estimates
            else "BLS's state estimates were not loaded for this release, which came from BLS's "
            "national workbook alone."
        )
        return Chart("chart-states", "Where the qualifying jobs are", why, [], [], None)
    frame = states.join(STATE_TILES, on="state_code", how="inner").sort("state_code")
    known = frame.filter(pl.col("location_quotient").is_not_null())
    unknown = frame.filter(pl.col("location_quotient").is_null())

    def tiles(part: pl.DataFrame, marker: dict) -> dict:
        return trace(
            "scatter",
            x=part["tile_col"].to_list(),
            y=part["tile_row"].to_list(),
            mode="markers+text",
            # the quotient under the abbreviation: colour is not the only way to read the map
            # (nor the only one left on a black-and-white printout); a phone shows the
            # abbreviation alone (report.js)
            text=[
                f"{abbr}<br>{'—' if lq is None else f'{lq:.2f}'}"
                for abbr, lq in part.select("state_abbr", "location_quotient").rows()
            ],
            textfont={"color": "#000000", "size": 11},
            hovertext=[_state_hover(r) for r in part.iter_rows(named=True)],
            hoverinfo="text",
            marker={
                "symbol": "square",
                "size": 38,
                "line": {"color": "#595959", "width": 1},
                **marker,
            },
        )

    traces = [
        tiles(
            known,
            {
                "color": known["location_quotient"].to_list(),
                "cmin": 0.5,
                "cmax": 1.5,
                "colorscale": [[0, "#b2d2ee"], [0.5, "#f4f4f4"], [1, "#f3b37c"]],
                "colorbar": {
                    "title": {"text": "Location<br>quotient"},
                    "thickness": 12,
                    # the scale stops at 0.5 and 1.5: a state beyond shows the end colour
                    "tickvals": [0.5, 0.75, 1, 1.25, 1.5],
                    "ticktext": ["0.5 or less", "0.75", "1", "1.25", "1.5 or more"],
                },
                "showscale": True,
            },
        )
    ]
    if unknown.height:  # no published employment: plain grey, said so in the hover text
        traces.append(tiles(unknown, {"color": "#d9d9d9"}))
    fig = figure(
        traces,
        base_layout(
            470,
            xaxis={"visible": False, "range": [-0.7, 11.7], "fixedrange": True},
            yaxis={"visible": False, "range": [7.7, -0.7], "fixedrange": True, "scaleanchor": "x"},
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
        ),
    )
    ranked = frame.filter(pl.col("location_quotient").is_not_null()).sort(
        "location_quotient", "area_name", descending=[True, False]
    )
    top = ", ".join(
        f"{r['area_name']} ({r['location_quotient']:.2f})"
        for r in ranked.head(3).iter_rows(named=True)
    )
    summary = (
        f"The cluster's qualifying occupations are most concentrated in {top}. A location "
        "quotient above 1 means a larger share of the state's jobs than nationally."
        if ranked.height
        else "No state employment is published for the cluster's qualifying occupations."
    )
    rows = [
        [
            r["area_name"],
            fmt_int(r["employment_count"]),
            "—" if r["location_quotient"] is None else f"{r['location_quotient']:.2f}",
            fmt_int(r["suppressed_occupation_count"]),
        ]
        for r in frame.sort("area_name").iter_rows(named=True)
    ]
    notes = [
        "The occupations counted in every state are those that qualify under the national "
        "screen above; a state's own screen, with its own living wage where the policy gives "
        "one, is kept in the project's database for researchers, not shown in this report.",
        "Employment sums the occupations BLS published for each state; where some were "
        "not published (last column), the jobs are a lower bound, and the location quotient "
        "compares the state with the nation over the occupations published for it (over all "
        "of them, the state would look less concentrated than it is).",
        "The map's colours stop at 0.5 and 1.5, so that the states near 1 are told apart: a "
        "state beyond either end has that end's colour; its value is in the table.",
        "BLS's national estimates cover the 50 states and the District of Columbia; Puerto "
        "Rico, Guam and the U.S. Virgin Islands are estimated on their own, so with them the "
        "table adds up to more than the national figures.",
    ]
    return Chart(
        "chart-states",
        "Where the qualifying jobs are: location quotient by state",
        summary,
        ["State", "Jobs", "Location quotient", "Occupations not published"],
        rows,
        fig,
        notes,
    )
