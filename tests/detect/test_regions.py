"""Country names for reading other countries' numbers (detect/regions.py): the file is
phonenumbers' own names, kept out of the import; a country named is not enough to make
a number a phone; odd Unicode never crashes the lookup."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

from needtoknow.detect import regions
from needtoknow.detect.scanner import Scanner

SCANNER = Scanner()


def test_the_names_file_is_phonenumbers_own() -> None:
    script = Path(__file__).parents[2] / "scripts" / "build_country_names.py"
    names = runpy.run_path(str(script))["names"]  # the script's own function, not __main__
    assert json.loads(regions.DATA.read_text("utf-8")) == names()


def test_scanning_does_not_load_phonenumbers_geocoding_data() -> None:
    code = (
        "import sys; from needtoknow.detect.scanner import Scanner; "
        "Scanner().scan('my UK number is 020 7946 0958'); "
        "print('phonenumbers.geocoder' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_country_named_near_a_number_does_not_make_it_a_phone() -> None:
    """Second review: Germany's and France's plans accept most digit runs."""
    for text in (
        "shipped to Germany, parcel 4402 1234 5678",
        "Germany won 2014; the score 2014 3 2 1",
        "in Germany 30123456 units",
        "The turkey weighed 2125550123 grams",
        "Jordan scored 0791234567 points",
        "French fries cost 0123456789 cents",
    ):
        assert "PHONE_NUMBER" not in [f.entity for f in SCANNER.scan(text)], text
    for text in ("my US number is (202) 456-1111", "Our office in Albania: 022 345 678"):
        assert [f.entity for f in SCANNER.scan(text)] == ["PHONE_NUMBER"], text


def test_odd_unicode_near_a_number_never_crashes() -> None:
    # a long s and a dotless i fold to "s" and "i" when case is ignored
    for text in ("in the Rus\u017fia office 4951234567", "the \u0131taly desk 0612345678"):
        SCANNER.scan(text)
