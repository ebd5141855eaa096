"""A report before and after its release: the preview's cost and accuracy are what the
release then spends and carries, and spend nothing; a released report is shown again
exactly, for free, and not at all once its stored rows were changed. Charts: numbers in
labels sort as numbers, and Devanagari labels are drawn in Devanagari."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import orjson
import pytest
import sqlalchemy as sa

from needtoknow.analytics.chart import bars, write_chart
from needtoknow.analytics.noise import vector
from needtoknow.analytics.releases import Releases
from needtoknow.analytics.reports import Release, Reports, natural
from needtoknow.errors import NotFound, ReleaseAltered
from needtoknow.storage.schema import report_releases
from needtoknow.vault import Vault
from tests.analytics.test_reports import count_spec, reports  # noqa: F401 - a fixture


def test_a_preview_costs_what_the_release_spends_and_spends_nothing(
    reports: Reports,  # noqa: F811
) -> None:
    before = reports.budgets.spent("ad_network")
    preview = reports.preview(count_spec(0.5), "ad_network")
    assert reports.budgets.spent("ad_network") == before  # nothing charged
    assert preview["months"]["2026-11"]["fits"] is True
    release = reports.run(count_spec(0.5), "ad_network")
    assert preview["cost"] == {"epsilon": release.epsilon, "delta": release.delta}
    assert preview["noise"] == release.noise
    error = release.noise["count"]["error_95"]
    assert error == vector(4, 0.5).error > 0  # OpenDP's scale-to-accuracy at 95%
    for row in release.rows:
        assert (row["count_low"], row["count_high"]) == (max(0, row["count"] - error),
                                                        row["count"] + error)  # fmt: skip
    after = reports.preview(count_spec(3.9), "ad_network")
    assert after["months"]["2026-11"]["fits"] is False  # 4 per month; 0.5 spent


def test_a_release_is_shown_again_exactly_and_never_once_altered(
    reports: Reports,  # noqa: F811
    vault: Vault,
) -> None:
    release = reports.run(count_spec(), "ad_network")
    spent = reports.budgets.spent("ad_network")
    releases = Releases(vault.scope)
    again = releases.get(release.ledger_index)
    assert again.to_json() == release.to_json()
    listed = releases.listing("ad_network")
    assert [r["ledger_index"] for r in listed] == [release.ledger_index]
    assert releases.listing("search_ads_partner") == []
    assert reports.budgets.spent("ad_network") == spent  # free
    with pytest.raises(NotFound):
        releases.get(release.ledger_index + 1000)
    forged = release.to_json()
    forged["rows"][0]["count"] += 1000
    with vault.db.begin() as conn:
        conn.execute(
            sa.update(report_releases)
            .where(report_releases.c.ledger_index == release.ledger_index)
            .values(document=orjson.dumps(forged).decode())
        )
    with pytest.raises(ReleaseAltered):
        releases.get(release.ledger_index)


def _release(labels: list[str], counts: list[int]) -> Release:
    return Release(
        report="terms",
        recipient="ad_network",
        columns=("term", "count"),
        rows=[{"term": t, "count": c} for t, c in zip(labels, counts, strict=True)],
        epsilon=1.0,
        delta=0.0,
        remaining={},
        ledger_index=1,
        bounding_salt=0,
        noise={},
        policy_version="x",
    )


def test_numbers_in_labels_sort_as_numbers() -> None:
    terms = ["term 10", "term 2", "term 1", "plan b", "plan a"]
    assert sorted(terms, key=lambda t: natural((t,))) == [
        "plan a",
        "plan b",
        "term 1",
        "term 2",
        "term 10",
    ]
    drawn = bars(_release(["term 10", "term 2", "term 9"], [5, 5, 7]))
    assert [b["label"] for b in drawn] == ["term 9", "term 2", "term 10"]  # ties: natural


def test_devanagari_labels_are_drawn_in_devanagari(tmp_path: Path) -> None:
    """Two different Devanagari letters draw differently: with no font for the script
    both would be the same empty box (and so would two Latin letters' boxes be not)."""
    images: list[np.ndarray] = []
    for label in ("क", "ख"):
        path = tmp_path / f"{len(images)}.png"
        write_chart(_release([label], [3]), path)
        image = cv2.imread(str(path))
        assert image is not None
        images.append(image)
    width = min(image.shape[1] for image in images)
    assert np.any(images[0][:, :width] != images[1][:, :width])
