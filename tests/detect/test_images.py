"""Images: a real photograph's face and rendered text found, then blurred and painted out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from needtoknow.detect import Scanner
from needtoknow.detect.files import Located, Skipped, Unreadable, redact_file, scan_file
from needtoknow.detect.images import faces, scan_image
from needtoknow.detect.redact import Redactor

SCANNER = Scanner()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """scikit-image's astronaut (a NASA portrait shipped in its wheel): one real face."""
    path = tmp_path / "portrait.png"
    astronaut = data.astronaut()  # type: ignore[no-untyped-call]
    cv2.imwrite(str(path), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def scan_of_a_card(tmp_path: Path) -> Path:
    image = np.full((220, 900, 3), 255, np.uint8)
    for y, text in ((80, "PAN ABCPE1234F"), (170, "mail asha.rao@example.in")):
        cv2.putText(image, text, (20, y), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    path = tmp_path / "card.jpg"
    cv2.imwrite(str(path), image)
    return path


def test_a_face_in_a_photograph_is_found(photo: Path) -> None:
    (face,) = [f for f in scan_image(photo, SCANNER) if f.finding.entity == "FACE"]
    assert face.finding.category == "face" and face.box.width > 40
    blank = np.full((300, 300, 3), 200, np.uint8)
    assert faces(blank) == []


def test_text_in_an_image_is_read_and_scanned(scan_of_a_card: Path) -> None:
    found = [x for x in scan_file(scan_of_a_card, SCANNER) if isinstance(x, Located)]
    assert [(x.finding.entity, x.value) for x in found] == [
        ("IN_PAN", "ABCPE1234F"),
        ("EMAIL_ADDRESS", "asha.rao@example.in"),
    ]
    pan_box = found[0].box
    assert pan_box is not None and pan_box.y < 90 < pan_box.y + pan_box.height + 20


def test_redaction_blurs_faces_and_paints_text_out(
    photo: Path, scan_of_a_card: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert redact_file(photo, out / "portrait.png", SCANNER, Redactor()) >= 1
    redacted = cv2.imread(str(out / "portrait.png"))
    assert redacted is not None and faces(redacted) == []
    assert redact_file(scan_of_a_card, out / "card.jpg", SCANNER, Redactor()) == 2
    assert [x for x in scan_file(out / "card.jpg", SCANNER) if isinstance(x, Located)] == []


def test_a_broken_image_is_reported_and_redacts_to_nothing(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (skipped,) = list(scan_file(path, SCANNER))
    assert isinstance(skipped, Skipped) and "decode" in skipped.reason
    with pytest.raises(Unreadable):
        redact_file(path, tmp_path / "out.png", SCANNER, Redactor())
    assert not (tmp_path / "out.png").exists()


def test_ntk_scan_reports_boxes_for_images(scan_of_a_card: Path) -> None:
    ntk = str(Path(sys.executable).with_name("ntk"))
    result = subprocess.run(
        [ntk, "scan", str(scan_of_a_card), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["entity"] for line in lines] == ["IN_PAN", "EMAIL_ADDRESS"]
    assert set(lines[0]["box"]) == {"x", "y", "width", "height"}
    assert "ABCPE" not in result.stdout
