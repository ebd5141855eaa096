"""A released report as a chart: a Vega-Lite bar chart with each bar's 95% interval,
rendered by vl-convert (Vega's own renderer, bundled: nothing is fetched) to PNG, SVG,
or a self-contained interactive HTML page (Vega's scripts inline, no CDN).

Only released rows are drawn — noisy values after suppression, with the intervals the
release carries — so a chart is exactly as private as the JSON it was made from. Text is
shaped by the renderer, so labels in Devanagari render (with a Devanagari font
installed: ``fonts-lohit-deva`` on Debian; scripts/test-services.sh installs it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from needtoknow.analytics.reports import Release, natural
from needtoknow.errors import ValidationError
from needtoknow.guards.output import replacing

MAX_BARS = 40
FORMATS = (".png", ".svg", ".html")


def bars(release: Release) -> list[dict[str, Any]]:
    """The largest rows, largest first (a histogram's in bin order, ties in natural
    order): label, value and, where released, the 95% interval."""
    measure = release.columns[-1]
    keys = release.columns[: -3 if measure == "mean" else -1]
    rows = []
    for row in release.rows:
        label = " · ".join(str(row[k]) for k in keys)
        bar: dict[str, Any] = {"label": label, "value": float(row[measure] or 0)}
        if f"{measure}_low" in row:
            bar |= {"low": row[f"{measure}_low"], "high": row[f"{measure}_high"]}
        rows.append((tuple(row[k] for k in keys), bar))
    if "bin" not in release.columns:
        rows.sort(key=lambda r: (-r[1]["value"], natural(r[0])))
    return [bar for _, bar in rows[:MAX_BARS]]


def check_chart_path(path: Path) -> None:
    """Refuse an unsupported chart name before the report spends any budget."""
    if path.suffix.lower() not in FORMATS:
        raise ValidationError(str(path), "chart", "format", ", ".join(FORMATS))


def vega_lite(release: Release) -> dict[str, Any]:
    """The chart as a Vega-Lite specification (its data inline)."""
    measure = release.columns[-1]
    y = {"field": "label", "type": "nominal", "sort": None, "title": None}
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "bar", "color": "#2870b4"},
            "encoding": {
                "y": y,
                "x": {"field": "value", "type": "quantitative", "title": measure},
                "tooltip": [
                    {"field": "label", "title": "row"},
                    {"field": "value", "title": measure},
                    {"field": "low", "title": "95% from"},
                    {"field": "high", "title": "95% to"},
                ],
            },
        }
    ]
    if measure in release.noise:  # noisy totals carry their interval; a mean does not
        layers.append(
            {
                "mark": {"type": "rule", "color": "#222"},
                "encoding": {
                    "y": y,
                    "x": {"field": "low", "type": "quantitative"},
                    "x2": {"field": "high"},
                },
            }
        )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {
            "text": f"{release.report}: {measure} for {release.recipient}",
            "subtitle": (
                f"differentially private: ε = {release.epsilon:.3g}, δ = {release.delta:.2g}; "
                "lines: 95% intervals"
            ),
        },
        "config": {"title": {"fontWeight": "normal"}, "axis": {"titleFontWeight": "normal"}},
        "width": 600,
        "data": {"values": bars(release)},
        "layer": layers,
    }


def write_chart(release: Release, path: Path) -> None:
    check_chart_path(path)
    import vl_convert

    spec = json.dumps(vega_lite(release), ensure_ascii=False)
    suffix = path.suffix.lower()
    with replacing(path) as temporary:
        if suffix == ".png":
            temporary.write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
        elif suffix == ".svg":
            temporary.write_text(svg(release), "utf-8")
        else:
            temporary.write_text(vl_convert.vegalite_to_html(spec, bundle=True), "utf-8")


def svg(release: Release) -> str:
    """The chart as SVG text (what the console shows)."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(json.dumps(vega_lite(release), ensure_ascii=False)))
