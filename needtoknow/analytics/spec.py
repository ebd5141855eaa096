"""A report, declared: what to aggregate over which events, grouped how, at what privacy
cost — a small YAML file a privacy officer can read (examples in ``examples/reports/``).

Everything that affects the privacy guarantee is in the spec, checked when it is
loaded, before any data is touched: the bounds on each subject's contribution, ε and δ,
and which dimensions have *public* keys. A dimension whose values are not listed is
private: its partitions are released only if they pass OpenDP's threshold, which
needs δ > 0.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import stat
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from needtoknow.analytics.events import DIMENSIONS, KINDS, MAX_VALUE
from needtoknow.categories.india import STATE_CODES
from needtoknow.errors import ValidationError

MEASURES = ("count", "subjects", "sum", "mean", "histogram")
GROUPABLE = (*DIMENSIONS, "kind", "day")
# Keys public by nature: the calendar, the event kinds, the states of India.
NATURAL_KEYS: Mapping[str, Sequence[str]] = {
    "kind": KINDS,
    "region": tuple(sorted(STATE_CODES)),
}
MAX_KEYS = 1_000_000  # public partitions a report may enumerate (each gets noise)
MAX_KEY_FILE = 16 << 20  # bytes of a key list file ({file: name}): a million short keys
MAX_WINDOW = 366
MAX_SENSITIVITY = 10**12  # K * C * high: keeps totals of a million subjects in 64 bits
MIN_DELTA = 1e-15  # below it OpenDP's threshold search fails


@dataclass(frozen=True)
class ReportSpec:
    name: str
    measure: str
    by: tuple[str, ...]
    start: date
    end: date  # inclusive
    epsilon: float
    max_partitions: int  # K: partitions one subject may touch
    max_per_partition: int  # C: events one subject may add to a partition
    delta: float = 0.0
    kinds: tuple[str, ...] = ()  # () = every kind
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # public key lists
    value_bounds: tuple[int, int] | None = None  # sum, mean, histogram: clamp of ``value``
    bins: tuple[int, ...] = ()  # histogram: bin edges of ``value``
    min_count: int = 0  # released rows whose noisy count is below this are dropped
    description: str = ""
    # Set by the report engine from the policy, never by a spec: count only events of
    # customers whose consent to this purpose stood (a usage_data rule's requires_consent).
    consent: str | None = None

    @property
    def private_dimensions(self) -> tuple[str, ...]:
        return tuple(d for d in self.by if d not in self.keys)

    @property
    def days(self) -> tuple[str, ...]:
        return tuple(
            (self.start + timedelta(days=n)).isoformat()
            for n in range((self.end - self.start).days + 1)
        )

    @property
    def months(self) -> tuple[str, ...]:
        """The pseudonym periods the window touches: each is charged the full cost (a
        subject is a different pseudonym in each, so the months are disjoint data)."""
        return tuple(sorted({day[:7] for day in self.days}))

    @property
    def bin_labels(self) -> tuple[str, ...]:
        edges = self.bins
        return tuple(f"[{lo},{hi})" for lo, hi in itertools.pairwise(edges))

    def digest(self) -> str:
        """SHA-256 of the spec's canonical JSON with every public key list in full:
        ledger entries name the exact query, down to which partitions it released."""
        canonical = {**self.to_json(), "public_keys": {k: list(v) for k, v in self.keys.items()}}
        return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measure": self.measure,
            "by": list(self.by),
            "window": [self.start.isoformat(), self.end.isoformat()],
            "kinds": list(self.kinds),
            "epsilon": self.epsilon,
            "delta": self.delta,
            "max_partitions": self.max_partitions,
            "max_per_partition": self.max_per_partition,
            "public_keys": {name: len(values) for name, values in sorted(self.keys.items())},
            "value_bounds": list(self.value_bounds) if self.value_bounds else None,
            "bins": list(self.bins),
            "min_count": self.min_count,
            "consent": self.consent,
        }


def load_spec(path: str | Path) -> ReportSpec:
    """Read and check a spec file; key lists may be given inline or as ``{file: name}``,
    a text file in the spec's own folder (one key per line; see :func:`_key_file`)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise ValidationError("spec", "report", "unreadable", exc.strerror or "") from None
    except UnicodeDecodeError:
        raise ValidationError("spec", "report", "not_text", "a UTF-8 YAML file") from None
    except yaml.YAMLError as exc:
        raise ValidationError("spec", "report", "yaml", str(exc).splitlines()[0]) from None
    return parse_spec(data, path.parent)


def parse_spec(data: Any, base: Path | None = None) -> ReportSpec:
    """Check a spec already parsed from YAML or JSON; ``base`` is the folder of the file
    it came from (key lists may name files in it), None for a spec with no file (HTTP).

    The steps run in a fixed order, so a spec with several mistakes is always refused
    for the same one."""
    _check_fields(data)
    name = _text(data, "name")
    measure = data.get("measure")
    if measure not in MEASURES:
        raise _bad("measure", "one_of", ", ".join(MEASURES))
    by = _names(data.get("by", []), "by", GROUPABLE)
    start, end = _window(data)
    kinds = _names(data.get("kinds", []), "kinds", KINDS)
    epsilon, delta = _privacy(data)
    max_partitions, max_per_partition, value_bounds = _contribution(data, measure)
    bins = _bins(data, measure, value_bounds)
    keys = _public_keys(data, by, kinds, start, end, base)
    _check_private_dimensions(by, keys, measure, delta)
    min_count = _integer(data, "min_count", 0, 10**9, default=0)
    if min_count and measure == "sum":
        raise _bad("min_count", "needs_count", "suppression applies to counts; use mean")
    _check_partition_count(keys, bins)
    return ReportSpec(
        name=name,
        measure=measure,
        by=by,
        start=start,
        end=end,
        epsilon=epsilon,
        delta=delta,
        max_partitions=max_partitions,
        max_per_partition=max_per_partition,
        kinds=kinds,
        keys=keys,
        value_bounds=value_bounds,
        bins=bins,
        min_count=min_count,
        description=str(data.get("description") or "").strip(),
    )


_FIELDS = frozenset(
    "name description measure by window kinds privacy bounds keys bins min_count".split()
)


def _check_fields(data: Any) -> None:
    """A mapping naming only known fields: a misspelt field (``bound:``) silently left
    out could drop a privacy bound the author meant to set."""
    if not isinstance(data, dict):
        raise _bad("spec", "mapping", "a YAML mapping")
    unknown = sorted(str(name) for name in data if name not in _FIELDS)  # YAML keys: any type
    if unknown:
        raise _bad(unknown[0], "unknown_field", "fields: " + ", ".join(sorted(_FIELDS)))


def _window(data: Mapping[str, Any]) -> tuple[date, date]:
    """The first and last day counted, at most ``MAX_WINDOW`` apart: every day of the
    window is a public ``day`` key, and each month it touches is charged in full."""
    window = data.get("window") or {}
    start, end = _day(window, "from"), _day(window, "to")
    if end < start or (end - start).days >= MAX_WINDOW:
        raise _bad("window", "range", f"from ≤ to, at most {MAX_WINDOW} days")
    return start, end


def _privacy(data: Mapping[str, Any]) -> tuple[float, float]:
    """ε and δ: δ is 0 (no private dimensions) or large enough for OpenDP's threshold."""
    privacy = data.get("privacy") or {}
    epsilon = _number(privacy, "epsilon", 1e-6, 100.0)
    delta = _number(privacy, "delta", 0.0, 1e-3, default=0.0)
    if 0 < delta < MIN_DELTA:
        raise _bad("privacy.delta", "range", f"0, or in [{MIN_DELTA}, 0.001]")
    return epsilon, delta


def _contribution(data: Mapping[str, Any], measure: str) -> tuple[int, int, tuple[int, int] | None]:
    """How much one subject may add: partitions touched (K), events per partition (C),
    and the clamp of ``value`` for a measure that adds values. The noise scales with
    their product, which must stay within 64-bit totals."""
    bounds = data.get("bounds") or {}
    max_partitions = _integer(bounds, "max_partitions", 1, 10_000, where="bounds.")
    max_per_partition = (
        1
        if measure == "subjects"  # a subject counts once per partition by definition
        else _integer(bounds, "max_per_partition", 1, 10_000, where="bounds.")
    )
    if measure not in ("sum", "mean", "histogram"):
        return max_partitions, max_per_partition, None
    value = bounds.get("value")
    if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)):
        raise _bad("bounds.value", "required", f"[low, high] integers for a {measure}")
    if not 0 <= value[0] < value[1] <= MAX_VALUE:
        raise _bad("bounds.value", "range", "0 ≤ low < high ≤ 10^9")
    value_bounds = (int(value[0]), int(value[1]))
    if max_partitions * max_per_partition * value_bounds[1] > MAX_SENSITIVITY:
        raise _bad("bounds", "too_wide", f"K * C * high at most {MAX_SENSITIVITY}")
    return max_partitions, max_per_partition, value_bounds


def _bins(
    data: Mapping[str, Any], measure: str, value_bounds: tuple[int, int] | None
) -> tuple[int, ...]:
    """A histogram's bin edges; they go into SQL, so they are bounded integers."""
    if measure != "histogram":
        if "bins" in data:
            raise _bad("bins", "histogram_only")
        return ()
    raw = data.get("bins")
    if not (isinstance(raw, list) and len(raw) >= 2 and all(_is_int(b) for b in raw)):
        raise _bad("bins", "required", "at least two integer edges")
    if not all(-MAX_VALUE <= b <= MAX_VALUE + 1 for b in raw):
        raise _bad("bins", "range", f"edges in [-{MAX_VALUE}, {MAX_VALUE + 1}]")
    bins = tuple(int(b) for b in raw)
    if list(bins) != sorted(set(bins)):
        raise _bad("bins", "increasing", "strictly increasing edges")
    assert value_bounds is not None
    if bins[0] > value_bounds[0] or bins[-1] <= value_bounds[1]:
        # Values are clamped into the bounds first: bins must hold all of them.
        raise _bad("bins", "cover_bounds", "first edge ≤ low and last edge > high")
    return bins


def _public_keys(
    data: Mapping[str, Any],
    by: tuple[str, ...],
    kinds: tuple[str, ...],
    start: date,
    end: date,
    base: Path | None,
) -> dict[str, tuple[str, ...]]:
    """The public key lists (see :func:`_keys`); a report limited to some kinds has
    those as its ``kind`` keys, and may not list others."""
    declared = data.get("keys") or {}
    if isinstance(declared, dict) and "day" in declared:
        raise _bad("keys.day", "from_window", "a report's days are its window's")
    keys = _keys(declared, by, start, end, base)
    if "kind" in by and kinds:
        if "kind" not in declared:
            keys["kind"] = kinds
        elif not set(keys["kind"]) <= set(kinds):
            raise _bad("keys.kind", "not_in_kinds", "only kinds the report counts")
    return keys


def _check_private_dimensions(
    by: tuple[str, ...], keys: Mapping[str, tuple[str, ...]], measure: str, delta: float
) -> None:
    """A dimension without public keys releases only partitions past OpenDP's threshold,
    which needs δ > 0; a sum or mean has no such threshold, so it needs public keys."""
    private = [d for d in by if d not in keys]
    if private and delta <= 0:
        raise _bad("privacy.delta", "required", f"δ > 0: keys of {', '.join(private)} are private")
    if private and measure in ("sum", "mean"):
        raise _bad("keys", "public_required", f"a {measure} needs public keys for {private[0]}")


def _check_partition_count(keys: Mapping[str, tuple[str, ...]], bins: tuple[int, ...]) -> None:
    """Every public partition (and histogram bin) gets noise and a row: their product
    is bounded so a spec cannot ask for an unbounded amount of work."""
    count = 1
    for values in keys.values():
        count *= len(values)
    if bins:
        count *= len(bins) - 1
    if count > MAX_KEYS:
        raise _bad("keys", "too_many", f"{count} public partitions; at most {MAX_KEYS}")


def _keys(
    raw: Any, by: tuple[str, ...], start: date, end: date, base: Path | None
) -> dict[str, tuple[str, ...]]:
    """Public key lists: declared ones, plus those public by nature (days of the
    window, kinds, regions) for every dimension grouped by."""
    if not isinstance(raw, dict):
        raise _bad("keys", "mapping", "dimension: [values] or {file: name}")
    keys: dict[str, tuple[str, ...]] = {}
    for name, values in raw.items():
        if name not in by:
            raise _bad(f"keys.{name}", "not_grouped", "keys only for dimensions in by")
        if isinstance(values, dict) and set(values) == {"file"}:
            values = _key_file(f"keys.{name}", values["file"], base)
        if not (isinstance(values, list) and values and all(map(_is_key, values))):
            raise _bad(f"keys.{name}", "list", "a non-empty list of texts or {file: name}")
        if len(values) > MAX_KEYS:
            raise _bad(f"keys.{name}", "too_many_keys", f"at most {MAX_KEYS} keys")
        listed = tuple(dict.fromkeys(str(v) for v in values))
        keys[name] = listed
    for name in by:
        if name == "day" and name not in keys:
            keys[name] = tuple(
                (start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)
            )
        elif name in NATURAL_KEYS and name not in keys:
            keys[name] = tuple(NATURAL_KEYS[name])
    return keys


def _key_file(where: str, name: Any, base: Path | None) -> list[str]:
    """The keys listed in ``name``, a file in the spec's own folder ``base``.

    A spec may come from someone who should not see the machine's files (the
    advertiser it is written for), and its keys come back as report rows: so the file
    must lie inside the spec's folder — no absolute path, no ``..``, no symbolic link
    resolving outside — and be a bounded list of text lines, never a key file or a
    binary. A spec without a folder (sent over HTTP) may not name files at all."""
    if base is None:
        raise _bad(where, "file_not_allowed", "a spec sent over HTTP lists its keys inline")
    relative = Path(name) if isinstance(name, str) and name.isprintable() and name else None
    folder = base.resolve()
    if relative is None or relative.is_absolute() or ".." in relative.parts:
        raise _bad(where, "outside_spec_folder", _INSIDE)
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder):
        raise _bad(where, "outside_spec_folder", _INSIDE)
    try:
        # No following a link swapped in since the check; no waiting on a FIFO.
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _bad(where, "not_a_file", "a regular file of keys, one per line")
            raw = handle.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise _bad(where, "unreadable", exc.strerror or "") from None
    if len(raw) > MAX_KEY_FILE:
        raise _bad(where, "file_too_large", f"at most {MAX_KEY_FILE} bytes")
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise _bad(where, "not_text", _LINES) from None
    if any(unicodedata.category(c) == "Cc" for c in text.replace("\n", "")):
        raise _bad(where, "not_text", _LINES)
    return [line.strip() for line in text.split("\n") if line.strip()]


_INSIDE = "a file in the spec's folder: relative, no '..', no link out of the folder"
_LINES = "UTF-8 text, one key per line, no NUL or other control characters"


def _bad(where: str, rule: str, detail: str = "") -> ValidationError:
    return ValidationError(where, "report", rule, detail)


def _is_key(value: object) -> bool:
    """A partition key as listed: printable text (what an event dimension can hold), or
    a number YAML read from unquoted digits."""
    return (isinstance(value, str) and value.isprintable()) or _is_int(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise _bad(name, "text", "1-100 characters")
    if not value.isprintable():  # the name is in ledger entries and chart titles
        raise _bad(name, "text", "printable characters")
    return value.strip()


def _names(value: Any, where: str, known: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or any(v not in known for v in value):
        raise _bad(where, "one_of", ", ".join(known))
    if len(set(value)) != len(value):
        raise _bad(where, "duplicate")
    return tuple(value)


def _day(data: Any, name: str) -> date:
    value = data.get(name) if isinstance(data, dict) else None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _bad(f"window.{name}", "iso_date", "YYYY-MM-DD") from None


def _number(data: Any, name: str, low: float, high: float, default: float | None = None) -> float:
    value = data.get(name, default) if isinstance(data, dict) else default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"privacy.{name}", "range", f"a number in [{low}, {high}]")
    if name == "epsilon" and value <= 0:
        raise _bad("privacy.epsilon", "range", "greater than 0")
    return float(value)


def _integer(
    data: Any, name: str, low: int, high: int, default: int | None = None, where: str = ""
) -> int:
    value: Any = data.get(name, default) if isinstance(data, dict) else default
    if not _is_int(value) or not low <= value <= high:
        raise _bad(where + name, "range", f"an integer in [{low}, {high}]")
    return int(value)
