"""Write ``needtoknow/detect/data/countries.json``: the English name of every region
``phonenumbers`` can parse, from its own geocoding data — so the scanner knows the names
without importing that data (100 MB) at run time. Run again after upgrading phonenumbers;
``tests/detect/test_regions.py`` fails when the file is stale."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
from phonenumbers import geocoder

OUT = Path(__file__).parents[1] / "needtoknow" / "detect" / "data" / "countries.json"


def names() -> dict[str, str]:
    found = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        if name:
            found[region] = name
    return found


if __name__ == "__main__":
    OUT.write_text(json.dumps(names(), ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT}")
