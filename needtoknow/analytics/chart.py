"""A released report as a bar chart: PNG (drawn with OpenCV, already a dependency for
images) or a self-contained HTML page with inline SVG (no scripts, nothing fetched).

Only released rows are drawn — noisy values, after suppression — so a chart is exactly
as private as the JSON it was made from.
"""

from __future__ import annotations

import html
from pathlib import Path

import cv2
import numpy as np

from needtoknow.analytics.reports import Release
from needtoknow.errors import ValidationError
from needtoknow.guards.output import replacing

MAX_BARS = 40
_BAR, _GAP, _LABEL, _WIDTH = 18, 6, 260, 900


def bars(release: Release) -> list[tuple[str, float]]:
    """(label, value) of the largest rows, largest first — a histogram's in bin order."""
    measure = release.columns[-1]
    keys = release.columns[: -3 if measure == "mean" else -1]
    rows = [
        (" · ".join(str(row[k]) for k in keys), float(row[measure] or 0)) for row in release.rows
    ]
    if "bin" not in release.columns:
        rows.sort(key=lambda r: -r[1])
    return rows[:MAX_BARS]


def check_chart_path(path: Path) -> None:
    """Refuse an unsupported chart name before the report spends any budget."""
    if path.suffix.lower() not in (".png", ".html"):
        raise ValidationError(str(path), "chart", "format", ".png or .html")


def write_chart(release: Release, path: Path) -> None:
    check_chart_path(path)
    with replacing(path) as temporary:
        if path.suffix.lower() == ".png":
            ok, data = cv2.imencode(".png", _image(release))
            if not ok:
                raise ValidationError(str(path), "chart", "png")
            temporary.write_bytes(data.tobytes())
        else:
            temporary.write_text(_html(release), "utf-8")


def _title(release: Release) -> str:
    return (
        f"{release.report} for {release.recipient}: {release.columns[-1]} "
        f"(differentially private, ε={release.epsilon:.3g}, δ={release.delta:.2g})"
    )


def _image(release: Release) -> np.ndarray:
    data = bars(release)
    top = max((v for _, v in data), default=0.0) or 1.0
    height = 50 + len(data) * (_BAR + _GAP)
    image = np.full((height, _WIDTH, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    title = _title(release).replace("ε", "eps").replace("δ", "delta")  # Hershey is ASCII
    cv2.putText(image, title, (10, 25), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for i, (label, value) in enumerate(data):
        y = 45 + i * (_BAR + _GAP)
        length = int((_WIDTH - _LABEL - 80) * value / top)
        text = label.encode("ascii", "replace").decode()[:36]
        cv2.putText(image, text, (10, y + 13), font, 0.4, (40, 40, 40), 1, cv2.LINE_AA)
        cv2.rectangle(image, (_LABEL, y), (_LABEL + length, y + _BAR), (180, 110, 40), -1)
        cv2.putText(image, f"{value:g}", (_LABEL + length + 5, y + 13), font, 0.4, (0, 0, 0), 1)
    return image


def _html(release: Release) -> str:
    data = bars(release)
    top = max((v for _, v in data), default=0.0) or 1.0
    height = 20 + len(data) * (_BAR + _GAP)
    rects = []
    for i, (label, value) in enumerate(data):
        y = 10 + i * (_BAR + _GAP)
        length = (_WIDTH - _LABEL - 80) * value / top
        rects.append(
            f'<text x="0" y="{y + 13}">{html.escape(label)}</text>'
            f'<rect class="bar" x="{_LABEL}" y="{y}" width="{length:.1f}" height="{_BAR}">'
            f"<title>{html.escape(label)}: {value:g}</title></rect>"
            f'<text x="{_LABEL + length + 5:.1f}" y="{y + 13}">{value:g}</text>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(release.report)}</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:2em}"
        "rect.bar{fill:#2870b4}text{font-size:12px}</style></head><body>"
        f"<h1>{html.escape(_title(release))}</h1>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'role="img" aria-label="{html.escape(release.report)}">{"".join(rects)}</svg>'
        "</body></html>\n"
    )
