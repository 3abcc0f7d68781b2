"""Report charts on edge cases: nothing qualifies, unpublished values, markup in names."""

from __future__ import annotations

import json

import polars as pl

from pipelines.reporting import charts, state_map
from pipelines.reporting.tile_grid import STATE_TILES

OCCUPATION_SCHEMA = {
    "occupation_name": pl.String,
    "status": pl.String,
    "employment_count": pl.Int64,
    "wage_annual_p10_usd": pl.Float64,
    "wage_annual_p25_usd": pl.Float64,
    "wage_annual_median_usd": pl.Float64,
    "wage_annual_p75_usd": pl.Float64,
    "wage_annual_p90_usd": pl.Float64,
    "openings_annual_thousands": pl.Float64,
    "employment_change_pct": pl.Float64,
}


def test_tile_grid_has_one_square_per_state_and_no_overlaps() -> None:
    assert STATE_TILES.height == 54  # 50 states, DC, PR, GU, VI: every OEWS state area
    assert STATE_TILES.select("tile_row", "tile_col").is_unique().all()
    assert STATE_TILES["state_abbr"].is_unique().all()


def test_charts_say_so_when_nothing_qualifies() -> None:
    occupations = pl.DataFrame(
        [{"occupation_name": "A", "status": "excluded", "employment_count": 10}],
        schema=OCCUPATION_SCHEMA,
    )
    wage = charts.wage_chart(occupations, 52_000)
    assert "No qualifying occupation" in wage.summary and wage.rows == []
    outlook = charts.outlook_chart(occupations, None)
    assert outlook.figure is None and "not loaded" in outlook.summary
    subs = charts.sub_cluster_chart(
        pl.DataFrame({"sub_cluster_name": ["S"], "occupations": [0], "employment": [0]})
    )
    assert subs.summary == "No sub-cluster has qualifying employment."
    # an empty bar beside others says why it is empty, on the chart and in its summary
    subs = charts.sub_cluster_chart(
        pl.DataFrame(
            {
                "sub_cluster_name": ["A & B", "Empty", "Also empty", "C"],
                "occupations": [3, 0, 0, 1],
                "employment": [3000, 0, 0, 500],
                "assigned_occupations": [4, 2, 0, 1],
                "data_note": [None, None, "Not in OEWS.", None],
            }
        )
    )
    bars = subs.figure["data"][0]
    assert dict(zip(bars["y"], bars["text"], strict=True)) == {
        "Empty": "\u00a0\u00a0no qualifying occupation",
        "Also empty": "\u00a0\u00a0no qualifying occupation",
        "C": "",
        "A &amp; B": "",
    }
    assert bars["customdata"] == [
        "0 qualifying occupations",
        "0 qualifying occupations",
        "1 qualifying occupation",
        "3 qualifying occupations",
    ]
    assert subs.summary.endswith(
        " No qualifying occupation in Also empty: no occupation in the data is assigned to it."
        " Not in OEWS. No qualifying occupation in Empty: its 2 assigned occupations do not"
        " qualify (the occupations table says why)."
    )
    sectors = pl.DataFrame(
        schema={
            "industry_name": pl.String,
            "employment_count": pl.Int64,
            "employment_share": pl.Float64,
            "top_occupations": pl.String,
        }
    )
    assert "No sector employment" in charts.industry_chart(sectors).summary
    # a release loaded from the national workbook alone: no empty chart, a sentence saying why
    national_only = charts.industry_chart(sectors, has_industry_estimates=False)
    assert national_only.figure is None and national_only.title == "Industry sectors"
    assert "came from BLS's national workbook alone" in national_only.summary
    no_states = state_map.state_chart(pl.DataFrame(schema={"state_code": pl.String}), False)
    assert no_states.figure is None and "state estimates were not loaded" in no_states.summary


def test_state_map_handles_unpublished_states() -> None:
    states = pl.DataFrame(
        {
            "state_code": ["01", "02"],
            "area_name": ["Alabama", "Alaska"],
            "employment_count": [100, 0],
            "location_quotient": [1.2, None],
            "suppressed_occupation_count": [0, 3],
        }
    )
    chart = state_map.state_chart(states)
    data = chart.figure["data"]
    # Alaska drawn apart, in grey; each tile shows its quotient, or a dash for none
    assert [t["text"] for t in data] == [["AL<br>1.20"], ["AK<br>—"]]
    assert data[1]["marker"]["color"] == "#d9d9d9"
    assert (
        "3 occupations not published: the jobs are a lower bound, the quotient is of the "
        "published ones"
    ) in data[1]["hovertext"][0]
    assert "lower bound" not in data[0]["hovertext"][0]
    assert "Alabama (1.20)" in chart.summary
    assert ["Alaska", "0", "—", "3"] in chart.rows
    # which screen the counted occupations passed: the national one, in every state
    assert chart.notes[0].startswith("The occupations counted in every state are those that ")
    assert "national screen" in chart.notes[0]


def test_markup_in_names_is_escaped_for_plotly_and_for_the_script_tag() -> None:
    name = "</script><script>alert(1)</script> & <b>x</b>"
    occupations = pl.DataFrame(
        [
            {
                "occupation_name": name,
                "status": "qualifies",
                "employment_count": 5,
                "wage_annual_p10_usd": 40_000.0,
                "wage_annual_p25_usd": 50_000.0,
                "wage_annual_median_usd": 60_000.0,
                "wage_annual_p75_usd": 70_000.0,
                "wage_annual_p90_usd": 80_000.0,
            }
        ],
        schema=OCCUPATION_SCHEMA,
    )
    chart = charts.wage_chart(occupations, 52_000)
    text = chart.figure_json
    assert "<" not in text and ">" not in text and "&" not in text
    # decoded, the label is the HTML-escaped name, which Plotly shows as literal text
    labels = json.loads(text)["data"][2]["y"]
    assert labels == [
        "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;"
    ]
    assert chart.rows[0][0] == name  # the data table gets the raw name; the template escapes it


def test_figure_json_carries_no_nan_for_the_browser() -> None:
    """JSON has no NaN or Infinity (the page's JSON.parse would reject the chart): null instead."""
    states = pl.DataFrame(
        {
            "state_code": ["01", "02", "04"],
            "area_name": ["Alabama", "Alaska", "Arizona"],
            "employment_count": [100, 5, 7],
            "location_quotient": [float("nan"), float("inf"), 1.1],
            "suppressed_occupation_count": [0, 0, 0],
        }
    )
    text = state_map.state_chart(states).figure_json

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in chart JSON")

    figure = json.loads(text, parse_constant=refuse)
    assert figure["data"][0]["marker"]["color"] == [None, None, 1.1]


def test_retrieval_times_read_as_dates_and_utc_times() -> None:
    from pipelines.reporting.render import fmt_when

    assert fmt_when("2026-12-05T05:05:07+00:00") == "2026-12-05 05:05 UTC"
    assert fmt_when("2026-09-26") == "2026-09-26"
    assert fmt_when("2026-12-05T05:05:07-05:00") == "2026-12-05T05:05:07-05:00"  # as recorded
    assert fmt_when(None) == "—" and fmt_when("") == "—"


def test_money_and_counts_round_half_up_on_the_printed_decimal() -> None:
    """Rounding happens at display only, the way a reader checks it by hand: $46.805 (a median
    of two published medians) is $46.81, though the float is a hair below 46.805."""
    from pipelines.reporting.charts import fmt_int, fmt_usd, fmt_usd2

    assert f"{46.805:.2f}" == "46.80"  # what formatting the float would print
    assert fmt_usd2(46.805) == "$46.81" and fmt_usd2(24.51) == "$24.51"
    assert fmt_usd(125909.5) == "$125,910" and fmt_usd(125909.19528773702) == "$125,909"
    assert fmt_int(2.5) == "3" and fmt_int(155495730) == "155,495,730"
    assert fmt_int(-2.5) == "-3" and fmt_int(-0.4) == "0" and fmt_usd2(-0.001) == "$0.00"
    assert fmt_usd2(None) == fmt_usd(None) == fmt_int(None) == "—"


def test_long_axis_labels_are_broken_into_escaped_lines() -> None:
    """BLS's government sector name is 96 characters: on two lines, each escaped, the bars keep
    the chart's width (and the label's words stay as BLS wrote them)."""
    name = (
        "Sector 99 - Federal, State, and Local Government, excl. State & Local Schools & "
        "Hospitals & USPS"
    )
    label = charts.tick_label(name)
    lines = label.split("<br>")
    assert len(lines) == 2 and all(len(line.replace("&amp;", "&")) <= 50 for line in lines)
    assert " ".join(lines).replace("&amp;", "&") == name
    assert charts.tick_label("Sector 51 - Information") == "Sector 51 - Information"
    hyphened = "x" * 44 + " Non-durable Goods"  # a hyphen at the line's end: not split there
    assert charts.tick_label(hyphened).split("<br>")[1] == "Non-durable Goods"
    assert all(line.strip() for line in charts.tick_label("x " * 60).split("<br>"))
