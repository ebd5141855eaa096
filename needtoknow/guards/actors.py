"""Who acts: actor names as people see them, for the four-eyes check.

A second person must approve a legal disclosure, and "different" has to mean different
to a reader, not different bytes: ``user:alice``, the same with a Cyrillic a (U+0430)
or with a soft hyphen (U+00AD) inside are the same name on screen. So actor names that
hide characters (control and format characters: soft hyphen, zero-width space and
joiners, bidi controls) or mix scripts inside one word are refused outright, and names
are compared by a skeleton — NFKC, format characters dropped, case folded, and letters
of other scripts that look like Latin letters or digits folded to them — in the spirit
of Unicode TR39's confusable skeleton.
"""

from __future__ import annotations

import unicodedata

from needtoknow.errors import ValidationError

# Letters of the Latin, Greek, Cyrillic, Armenian and Cherokee scripts that look like an
# ASCII letter or digit, by that character: the single-character entries of Unicode's
# confusables.txt (TR39) for those scripts whose prototype is one ASCII letter or digit
# (case folded), left out where NFKC already maps the letter to ASCII.
LOOKALIKES = {
    "2": "\u01a7\ua644\ua75a",
    "3": "\u01b7\u021c\u0417\u04e0\ua76a\ua7ab",
    "4": "\u13ce",
    "5": "\u01bc",
    "6": "\u0431\u13ee",
    "8": "\u0222\u0223",
    "9": "\ua76e",
    "a": "\u0251\u0391\u03b1\u0410\u0430\u13aa",
    "b": "\u0184\u0392\u0412\u042c\u13cf\u13f4\ua7b4",
    "c": "\u0421\u0441\u13df\u1d04\uabaf",
    "d": "\u0501\u13a0\u13e7",
    "e": "\u0395\u0415\u0435\u04bd\u13ac\uab32",
    "f": "\u03dc\u0584\u1e9d\ua798\ua799\uab35",
    "g": "\u018d\u0261\u050c\u0581\u13c0\u13f3\u1d83",
    "h": "\u0397\u041d\u04bb\u0570\u13bb\u13c2",
    "i": "\u0131\u0269\u026a\u03b9\u0456\u04cf\u13a5\ua647\uab75",
    "j": "\u037f\u03f3\u0408\u0458\u13ab\ua7b2",
    "k": "\u039a\u041a\u13e6",
    "l": "\u0196\u01c0\u0399\u0406\u04c0\u13de",
    "m": "\u039c\u03fa\u041c\u13b7",
    "n": "\u039d\u0578\u057c",
    "o": "\u039f\u03bf\u03c3\u041e\u043e\u0555\u0585\u1d0f\u1d11\uab3d",
    "p": "\u03a1\u03c1\u0420\u0440\u13e2",
    "q": "\u051b\u0563\u0566",
    "r": "\u01a6\u0433\u13a1\u13d2\u1d26\uab47\uab48\uab81",
    "s": "\u01bd\u0405\u0455\u054f\u13d5\u13da\ua731\uabaa",
    "t": "\u03a4\u0422\u13a2",
    "u": "\u028b\u03c5\u054d\u057d\u1d1c\ua79f\uab4e\uab52",
    "v": "\u03bd\u0474\u0475\u13d9\u1d20\uaba9",
    "w": "\u026f\u0461\u051c\u051d\u0561\u13b3\u13d4\u1d21\uab83",
    "x": "\u03a7\u0425\u0445\ua7b3",
    "y": "\u0263\u028f\u03a5\u03b3\u0423\u0443\u04ae\u04af\u13a9\u13bd\u1d8c\u1eff\uab5a",
    "z": "\u0396\u13c3\u1d22\uab93",
}
_FOLD = {ord(letter): ascii for ascii, letters in LOOKALIKES.items() for letter in letters}

# Scripts whose letters mix freely in one word (Japanese writes Han, Hiragana and
# Katakana together; Korean Hangul and Han).
_ONE_WRITING = {"CJK": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
MAX_LENGTH = 200  # the actor columns' width


def checked_actor(name: str, field: str = "actor") -> str:
    """``name`` if people can read it for what it is; else a ValidationError naming
    ``field`` and the rule (never the name): ``empty``, ``length``, ``hidden_characters``
    (control, format such as soft hyphen or zero-width, unassigned) or ``mixed_scripts``
    (one word written in two scripts, such as Latin with a Cyrillic letter)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(field, "actor", "empty")
    if len(name) > MAX_LENGTH:
        raise ValidationError(field, "actor", "length", f"at most {MAX_LENGTH} characters")
    if any(unicodedata.category(c) in _HIDDEN for c in name):
        raise ValidationError(
            field,
            "actor",
            "hidden_characters",
            "no control, format (soft hyphen, zero-width, bidi) or unassigned characters",
        )
    for word in _words(unicodedata.normalize("NFKC", name)):
        if len({_script(c) for c in word} - {None}) > 1:
            raise ValidationError(
                field, "actor", "mixed_scripts", "each word in one script (e.g. all Latin)"
            )
    return name


# Namespaces that say only how a person reached the vault — the CLI's `user:` and the
# console's `staff:` — not who they are: `user:alice` and `staff:alice` are one person.
PERSON_NAMESPACES = ("user:", "staff:")


def same_person(first: str, second: str) -> bool:
    """Whether two actor names read as the same name: equal skeletons, whichever of the
    person namespaces each came through."""
    first, second = _person(first), _person(second)
    return any(a == b for a, b in zip(_skeletons(first), _skeletons(second), strict=True))


def _person(name: str) -> str:
    for namespace in PERSON_NAMESPACES:
        if _skeletons(name[: len(namespace)])[0] == namespace:
            return name[len(namespace) :]
    return name


def _skeletons(name: str) -> tuple[str, str]:
    """The name with what cannot be seen dropped, spacing and case ignored, and look-alike
    letters folded to ASCII: after case folding (Cyrillic capital I, U+0406, folds to
    U+0456 and that to i, as Latin I folds to i) and, for capitals whose small letter
    looks like nothing Latin (Cyrillic VE, U+0412, small U+0432), before it too (to b)."""
    shown = "".join(
        c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) not in _HIDDEN
    )
    words = " ".join(shown.split())
    return (
        unicodedata.normalize("NFKC", words.casefold().translate(_FOLD)),
        unicodedata.normalize("NFKC", words.translate(_FOLD).casefold().translate(_FOLD)),
    )


def _words(text: str) -> list[str]:
    """Runs of letters and combining marks."""
    words, current = [], ""
    for c in text:
        if unicodedata.category(c)[0] in "LM":
            current += c
        elif current:
            words.append(current)
            current = ""
    return [*words, current] if current else words


def _script(c: str) -> str | None:
    """The script of a letter, by its Unicode name's first word (LATIN, CYRILLIC,
    DEVANAGARI…); None for marks and letters of no particular script (MODIFIER…)."""
    if not unicodedata.category(c).startswith("L"):
        return None
    first = unicodedata.name(c, "").split(" ")[0]
    if first in ("", "MODIFIER"):
        return None
    return _ONE_WRITING.get(first, first)
