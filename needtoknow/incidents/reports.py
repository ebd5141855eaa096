"""The reports an incident owes, made from its record: the Data Protection Board's
detailed report (DPDP Rules 2025 r.7(2)(b), within 72 hours) and CERT-In's incident
report (Directions 2022, direction (ii), within six hours), as Markdown and PDF.

The company writes what only it knows (``REPORT_FIELDS``: the description, the facts,
the mitigation, the findings about who caused it, the remedial measures — in English,
the language of both reports); the rest comes from the record: the kind, when it was
noticed, the scope (how many people, which categories, each version and its basis),
what was revoked, and r.7(2)(b)(vi)'s report on the intimations, from the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from needtoknow.errors import ValidationError
from needtoknow.incidents.kinds import KINDS
from needtoknow.moments import india, utc_text

REPORT_FIELDS = ("description", "facts", "mitigation", "findings", "remediation")
# The incident's own summary is sealed (it may name people) and never printed here:
# what CERT-In is told was observed is ``observed``, written for the report.
OPTIONAL_FIELDS = ("affected_systems", "occurred", "observed")
MAX_FIELD = 10_000
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core


def checked(words: Any) -> dict[str, str]:
    """The company's words for the reports, or a ValidationError naming the first wrong."""
    if not isinstance(words, Mapping):
        raise ValidationError("report", "incident", "object", ", ".join(REPORT_FIELDS))
    extra = sorted(set(words) - set(REPORT_FIELDS) - set(OPTIONAL_FIELDS))
    if extra:
        detail = ", ".join((*REPORT_FIELDS, *OPTIONAL_FIELDS))
        raise ValidationError(extra[0], "incident", "unknown", detail)
    out = {}
    for name in (*REPORT_FIELDS, *OPTIONAL_FIELDS):
        text = words.get(name)
        if text is None and name in OPTIONAL_FIELDS:
            continue
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_FIELD:
            raise ValidationError(name, "incident", "text", f"1 to {MAX_FIELD} characters")
        out[name] = text.strip()
    return out


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    ist = moment.astimezone(india()).strftime("%Y-%m-%d %H:%M IST")
    return f"{utc_text(moment)} ({ist})"


def board_report(record: Mapping[str, Any], words: Mapping[str, str], now: datetime) -> str:
    """The Board's detailed report, r.7(2)(b)(i) to (vi), as Markdown."""
    incident, scope = record["incident"], record["incident"]["scope"]
    due = incident["deadlines"]["board_report"]
    lines = [
        "# Personal data breach: detailed report to the Data Protection Board of India",
        "",
        f"Data Fiduciary: {record['company']}. Contact: {record['contact']}.",
        "",
        f"- Incident: {incident['incident_id']} ({KINDS[incident['kind']]})",
        f"- Became aware: {_when(incident['noticed_at'])}",
        f"- Report due: {_when(due['due'])}; made {_when(now)}"
        + (" (late)" if now > datetime.fromisoformat(due["due"].replace("Z", "+00:00")) else ""),
        f"- Data Principals affected: {scope['customers']}; personal data involved: "
        + (", ".join(c.replace("_", " ") for c in scope["categories"]) or "none found yet"),
        "",
        "## (i) Updated and detailed description",
        "",
        words["description"],
        "",
        "## (ii) Events, circumstances and reasons that led to the breach",
        "",
        words["facts"],
        "",
        "## (iii) Measures implemented or proposed to mitigate risk",
        "",
        words["mitigation"],
        *[f"- Revoked at once: {what} {name}" for what, name in record["revoked"]],
        "",
        "## (iv) Findings regarding the person who caused the breach",
        "",
        words["findings"],
        "",
        "## (v) Remedial measures taken to prevent recurrence",
        "",
        words["remediation"],
        "",
        "## (vi) Intimations given to affected Data Principals",
        "",
        "By e-mail to the address on file, in English and Hindi, with r.7(1)(a) to (e).",
        "",
        "| status | Data Principals |",
        "|---|---|",
        *[f"| {status} | {count} |" for status, count in sorted(record["notices"].items())],
        "",
        "How the affected were found (each version only added to the one before):",
        "",
        "| version | when | basis | added |",
        "|---|---|---|---|",
        *[
            f"| {s['version']} | {_when(s['made_at'])} | {_basis(s['basis'])} | {s['added']} |"
            for s in record["scopes"]
        ],
        "",
    ]
    return "\n".join(lines)


def cert_in_report(record: Mapping[str, Any], words: Mapping[str, str], now: datetime) -> str:
    """CERT-In's incident report (the fields of its reporting form), as Markdown."""
    incident = record["incident"]
    due = incident["deadlines"]["cert_in"]
    late = now > datetime.fromisoformat(due["due"].replace("Z", "+00:00"))
    lines = [
        "# Cyber security incident report to CERT-In",
        "",
        "Under the Directions of 28 April 2022 (section 70B(6), IT Act 2000), direction (ii).",
        "",
        "| field | |",
        "|---|---|",
        f"| Organisation | {_cell(record['company'])} |",
        f"| Point of contact | {_cell(record['contact'])} |",
        f"| Type of incident (Annexure I) | {KINDS[incident['kind']]} |",
        f"| Occurred | {_cell(words.get('occurred', 'being established'))} |",
        f"| Noticed | {_when(incident['noticed_at'])} |",
        f"| Report due | {_when(due['due'])}{' (late)' if late else ''} |",
        f"| Reported | {_when(now)} |",
        f"| Affected systems | {_cell(words.get('affected_systems', 'being established'))} |",
        f"| Personal data involved | {incident['scope']['customers']} people |",
        "",
        "## What was observed",
        "",
        words.get("observed", words["description"]),
        "",
        "## Description",
        "",
        words["description"],
        "",
        "## Actions taken",
        "",
        words["mitigation"],
        *[f"- Revoked at once: {what} {name}" for what, name in record["revoked"]],
        "",
    ]
    return "\n".join(lines)


def _basis(basis: Mapping[str, Any]) -> str:
    return _cell(", ".join(f"{k} {v}" for k, v in sorted(basis.items()) if v))


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell: its pipes escaped, its lines joined."""
    return " ".join(str(text).split()).replace("|", "\\|")


def check_font() -> None:
    """Refuse before anything is written when the PDFs' font is missing."""
    if not FONT.exists():
        raise ValidationError("pdf", "incident", "font", f"install fonts-dejavu-core ({FONT})")


def pdf_bytes(markdown: str) -> bytes:
    """The Markdown laid out as a PDF: headings, paragraphs, bullets and tables, in a
    Unicode font (DejaVu Sans, Debian's fonts-dejavu-core)."""
    from fpdf import FPDF

    check_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(FONT))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for line in markdown.splitlines():
        pdf.set_x(pdf.l_margin)
        if line.startswith("# "):
            pdf.set_font("DejaVu", size=15)
            pdf.multi_cell(width, 8, line[2:])
            pdf.ln(2)
        elif line.startswith("## "):
            pdf.set_font("DejaVu", size=12)
            pdf.ln(2)
            pdf.multi_cell(width, 7, line[3:])
        elif line.startswith("|---"):
            continue
        elif line.startswith("|"):
            pdf.set_font("DejaVu", size=9)
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip("|"))]
            pdf.multi_cell(width, 5, "   ".join(cells))
        elif line.startswith("- "):
            pdf.set_font("DejaVu", size=10)
            pdf.multi_cell(width, 5.5, "• " + line[2:])
        elif line.strip():
            pdf.set_font("DejaVu", size=10)
            pdf.multi_cell(width, 5.5, line)
        else:
            pdf.ln(3)
    return bytes(pdf.output())
