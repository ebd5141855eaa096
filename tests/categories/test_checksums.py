"""Check digits: every generated number validates, every single-digit error is caught.

The algorithms are python-stdnum's; these properties are why Aadhaar and cards carry
them at all, so they are pinned here whoever implements the tables.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn, verhoeff

from needtoknow.categories.identifiers import gstin_check_char

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@given(digits)
def test_verhoeff_digit_completes_a_valid_number(body: str) -> None:
    assert verhoeff.is_valid(body + verhoeff.calc_check_digit(body))


@given(digits, st.data())
def test_verhoeff_catches_every_single_digit_error(body: str, data: st.DataObject) -> None:
    number = body + verhoeff.calc_check_digit(body)
    position = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not verhoeff.is_valid(number[:position] + wrong + number[position + 1 :])


@given(digits, st.data())
def test_verhoeff_catches_adjacent_transpositions(body: str, data: st.DataObject) -> None:
    number = body + verhoeff.calc_check_digit(body)
    if len(number) < 2:
        return
    i = data.draw(st.integers(0, len(number) - 2))
    if number[i] == number[i + 1]:
        return
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert not verhoeff.is_valid(swapped)


@given(digits)
def test_luhn_digit_completes_a_valid_number(body: str) -> None:
    assert luhn.is_valid(body + luhn.calc_check_digit(body))


def test_known_vectors() -> None:
    assert verhoeff.is_valid("2363")  # the textbook example: 236 → check digit 3
    assert luhn.is_valid("4111111111111111") and not luhn.is_valid("4111111111111112")
    assert luhn.is_valid("79927398713")
    assert gstin_check_char("27AAPFU0939F1Z") == "V"  # GSTN's published sample 27AAPFU0939F1ZV
