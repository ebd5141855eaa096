"""Write ``needtoknow/detect/data/countries.json``: for every region ``phonenumbers`` can
parse, the English names people write — its geocoder's ("Swaziland", "Reunion") and the
Unicode CLDR's, as Babel carries them ("Eswatini", "Réunion", a curly apostrophe in
"Côte d'Ivoire") — so the scanner knows them without importing either at run time
(the geocoding data is 100 MB). Run again after upgrading phonenumbers or Babel;
``tests/detect/test_regions.py`` fails when the file is stale."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
from babel import Locale
from phonenumbers import geocoder

OUT = Path(__file__).parents[1] / "needtoknow" / "detect" / "data" / "countries.json"


def names() -> dict[str, list[str]]:
    cldr = Locale("en").territories
    found = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        spelled = {
            geocoder.country_name_for_number(example, "en") if example else "",
            cldr.get(region, ""),
        }
        spelled.discard("")
        if spelled:
            found[region] = sorted(spelled)
    return found


if __name__ == "__main__":
    OUT.write_text(json.dumps(names(), ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT}")
