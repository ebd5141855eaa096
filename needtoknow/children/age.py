"""Who is a child: under eighteen (DPDP Act s.2(f)), from the date of birth when the
record holds one, else from what the signup declared."""

from __future__ import annotations

from datetime import date

from needtoknow.errors import ValidationError

ADULT_AGE = 18


def adult_on(birth: date) -> date:
    """The eighteenth birthday (1 March for someone born on 29 February)."""
    try:
        return birth.replace(year=birth.year + ADULT_AGE)
    except ValueError:
        return date(birth.year + ADULT_AGE, 3, 1)


def is_child(birth: date | None, declared: bool | None, today: date) -> bool:
    """Whether the person is a child today: the date of birth decides when known, and a
    declaration that contradicts it is refused (one of the two is wrong); without one,
    the declaration (``is_child``) decides, and an adult is assumed when neither is
    given (the signup asks)."""
    if birth is None:
        return bool(declared)
    child = today < adult_on(birth)
    if declared is not None and declared != child:
        detail = "is_child must agree with date_of_birth (leave it out when the date is given)"
        raise ValidationError("is_child", "customer", "contradicts_date_of_birth", detail)
    return child
