"""Check-digit algorithms used by Indian and payment identifiers.

Pure functions on digit strings, shared by the vault's validators and (later) the
scanner, so one implementation decides what a "valid" number is everywhere.
"""

from __future__ import annotations

# Verhoeff tables (dihedral group D5), as used by Aadhaar (UIDAI).
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the rest."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(char)]]
    return check == 0


def verhoeff_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits``."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _D[check][_P[(position + 1) % 8][int(char)]]
    return str(_INV[check])


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn (mod 10) check used by cards and IMEIs."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits``."""
    for candidate in "0123456789":
        if luhn_valid(digits + candidate):
            return candidate
    raise AssertionError("unreachable: one of ten digits always completes a Luhn sum")


_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin_check_char(first14: str) -> str:
    """The GSTIN check character (GSTN's mod-36 scheme) for the first 14 characters."""
    total = 0
    for position, char in enumerate(first14):
        product = _GSTIN_ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _GSTIN_ALPHABET[(36 - total % 36) % 36]
