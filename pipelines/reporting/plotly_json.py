"""Plotly figures as plain JSON: the shared layout, traces, and the `Chart` a report embeds.

Not built with plotly.graph_objects: validating every property costs ~0.3 s in each process and
~25 ms per chart, and plotly.py would embed its whole default template in every chart. The tests
validate every chart of a real report with `go.Figure` instead (test_report_charts).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}
# The toolbar offers only the local PNG download: zoom and pan do nothing useful on these
# charts and were seven silent keyboard stops per chart, and "Share chart..." (plotly.js 4
# offers to upload the chart's data to Plotly's cloud by default) would take review material
# off the reader's machine.
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "modeBarButtons": [["toImage"]],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


@dataclass
class Chart:
    """One chart: a stable id, a heading, a one-paragraph summary and the same data as a table."""

    chart_id: str
    title: str
    summary: str
    columns: list[str]
    rows: list[list[str]]
    figure: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def figure_json(self) -> str:
        """JSON safe inside <script type="application/json">: no '<', '>' or '&' survive."""
        text = json.dumps(
            finite({"data": self.figure["data"], "layout": self.figure["layout"]})
            | {"config": CONFIG},
            allow_nan=False,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def base_layout(height: int, **extra) -> dict:
    """Layout shared by every chart (plotly.js defaults otherwise: no plotly.py template)."""
    layout = {
        "font": FONT,
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 10, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "showlegend": False,
        "hoverlabel": {"align": "left"},
        # the toolbar's icon at 7:1 against white (plotly.js draws it at about 1.7:1)
        "modebar": {"color": "#4b5563", "activecolor": "#111827", "bgcolor": "#ffffffd9"},
        # no drag-to-zoom: the toolbar has no button to undo it
        "dragmode": False,
        **extra,
    }
    for axis in ("xaxis", "yaxis"):  # room for tick labels and titles, whatever their length
        if axis in layout:
            layout[axis] = {"automargin": True, **layout[axis]}
    return layout


def finite(value: object) -> object:
    """NaN and infinities as null: JSON has no such numbers (JSON.parse rejects them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def trace(kind: str, **props: object) -> dict:
    """One Plotly trace as the JSON plotly.js reads: its type and its properties."""
    return {"type": kind, **props}


def figure(traces: list[dict], layout: dict) -> dict:
    """A figure as plain JSON data (why not plotly.graph_objects: see the module docstring)."""
    return {"data": traces, "layout": layout}
