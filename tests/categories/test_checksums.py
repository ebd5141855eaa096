"""Check digits: every generated number validates, every single-digit error is caught."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from needtoknow.categories.checksums import (
    gstin_check_char,
    luhn_digit,
    luhn_valid,
    verhoeff_digit,
    verhoeff_valid,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@given(digits)
def test_verhoeff_digit_completes_a_valid_number(body: str) -> None:
    assert verhoeff_valid(body + verhoeff_digit(body))


@given(digits, st.data())
def test_verhoeff_catches_every_single_digit_error(body: str, data: st.DataObject) -> None:
    number = body + verhoeff_digit(body)
    position = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not verhoeff_valid(number[:position] + wrong + number[position + 1 :])


@given(digits, st.data())
def test_verhoeff_catches_adjacent_transpositions(body: str, data: st.DataObject) -> None:
    number = body + verhoeff_digit(body)
    if len(number) < 2:
        return
    i = data.draw(st.integers(0, len(number) - 2))
    if number[i] == number[i + 1]:
        return
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert not verhoeff_valid(swapped)


@given(digits)
def test_luhn_digit_completes_a_valid_number(body: str) -> None:
    assert luhn_valid(body + luhn_digit(body))


def test_known_vectors() -> None:
    assert verhoeff_valid("2363")  # the textbook example: 236 → check digit 3
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("79927398713")
    assert gstin_check_char("27AAPFU0939F1Z") == "V"  # GSTN's published sample 27AAPFU0939F1ZV
