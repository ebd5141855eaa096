"""The notice to each person an incident affected (DPDP Rules 2025 r.7(1)): in plain
words, through the address on file, with (a) what happened — its nature, the person's
own data involved, and when — (b) what it may mean for them, (c) what the company did
and is doing, (d) what they can do, and (e) whom to ask. English and Hindi in one
message (the company does not know which a person reads).

The company writes (a)'s description and (b) to (d) once per incident (``NOTICE_FIELDS``,
each ``{en, hi}``); the rest is filled in per person from the incident's record and the
policy: which of their categories, when it was noticed, the grievance contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from needtoknow.errors import ValidationError
from needtoknow.moments import india
from needtoknow.policy.notice import LANGUAGES, TERMS

NOTICE_FIELDS = ("what_happened", "consequences", "measures", "advice")
MAX_FIELD = 2_000

HEADINGS = {
    "en": {
        "subject": "A personal data breach that involves your data",
        "what_happened": "What happened",
        "your_data": "Your data involved",
        "noticed": "When we became aware of it",
        "consequences": "What it may mean for you",
        "measures": "What we have done and are doing",
        "advice": "What you can do",
        "contact": "Whom to contact",
    },
    "hi": {
        "subject": "व्यक्तिगत डेटा उल्लंघन जिसमें आपका डेटा शामिल है",
        "what_happened": "क्या हुआ",
        "your_data": "आपका कौन-सा डेटा शामिल है",
        "noticed": "हमें इसकी जानकारी कब हुई",
        "consequences": "आपके लिए इसका क्या अर्थ हो सकता है",
        "measures": "हमने क्या किया है और क्या कर रहे हैं",
        "advice": "आप क्या कर सकते हैं",
        "contact": "किससे संपर्क करें",
    },
}


def checked(notice: Any) -> dict[str, dict[str, str]]:
    """The company's words, each field in every language, or a ValidationError naming
    the first that is missing."""
    if not isinstance(notice, Mapping):
        raise ValidationError("notice", "incident", "object", "{" + ", ".join(NOTICE_FIELDS) + "}")
    extra = sorted(set(notice) - set(NOTICE_FIELDS))
    if extra:
        raise ValidationError(extra[0], "incident", "unknown", ", ".join(NOTICE_FIELDS))
    out: dict[str, dict[str, str]] = {}
    for name in NOTICE_FIELDS:
        texts = notice.get(name)
        if not isinstance(texts, Mapping):
            raise ValidationError(name, "incident", "missing", "{en: ..., hi: ...}")
        out[name] = {}
        for language in LANGUAGES:
            text = texts.get(language)
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_FIELD:
                detail = f"1 to {MAX_FIELD} characters"
                raise ValidationError(f"{name}.{language}", "incident", "text", detail)
            out[name][language] = text.strip()
    return out


def compose(
    notice: Mapping[str, Mapping[str, str]],
    categories: tuple[str, ...],
    noticed_at: datetime,
    contact: str,
    company: str,
) -> tuple[str, str]:
    """(subject, text) of one person's notice, English then Hindi."""
    parts = []
    for language in LANGUAGES:
        say = HEADINGS[language]
        terms = TERMS.get(language, {})
        data = ", ".join(terms.get(c) or c.replace("_", " ") for c in categories)
        when = noticed_at.astimezone(india()).strftime("%Y-%m-%d %H:%M IST")
        parts.append(
            "\n\n".join(
                [
                    f"# {say['subject']} — {company}",
                    f"## {say['what_happened']}\n\n{notice['what_happened'][language]}",
                    f"## {say['your_data']}\n\n{data}",
                    f"## {say['noticed']}\n\n{when}",
                    f"## {say['consequences']}\n\n{notice['consequences'][language]}",
                    f"## {say['measures']}\n\n{notice['measures'][language]}",
                    f"## {say['advice']}\n\n{notice['advice'][language]}",
                    f"## {say['contact']}\n\n{contact}",
                ]
            )
        )
    subject = f"{HEADINGS['en']['subject']} / {HEADINGS['hi']['subject']}"
    return subject, "\n\n---\n\n".join(parts) + "\n"
