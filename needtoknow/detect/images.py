"""PII in images: faces (OpenCV's Haar cascade) and text (Tesseract OCR, then the scanner).

Both models ship with their packages — the cascade inside ``opencv-python-headless``,
Tesseract's English data in Debian's ``tesseract-ocr-eng`` — so nothing is downloaded.
OCR words are joined into lines with known character offsets, each line is scanned as
text, and a finding's box is the union of the words it covers. Redaction pixelates faces
and paints text findings out, into a temporary file renamed over the target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytesseract

from needtoknow.detect.entities import ENTITIES
from needtoknow.detect.scanner import Finding, Scanner
from needtoknow.guards.output import replacing

SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
FACE_SCORE = ENTITIES["FACE"].score


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    def padded(self, share: float, width: int, height: int) -> Box:
        """Grown by ``share`` of its size on every side, within a width x height image."""
        dx, dy = int(self.width * share), int(self.height * share)
        x, y = max(0, self.x - dx), max(0, self.y - dy)
        right = min(width, self.x + self.width + dx)
        bottom = min(height, self.y + self.height + dy)
        return Box(x, y, right - x, bottom - y)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        right = max(self.x + self.width, other.x + other.width)
        bottom = max(self.y + self.height, other.y + other.height)
        return Box(x, y, right - x, bottom - y)


@dataclass(frozen=True)
class ImageFinding:
    """A finding in an image: where (a box), and for text the OCR line and its offsets."""

    finding: Finding
    box: Box
    line: int  # OCR line, from 1; 0 for a face
    text: str  # the OCR'd text (empty for a face)


class UnreadableImage(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _faces_model() -> Any:
    cascades = Path(cv2.__file__).parent / "data"  # cv2.data.haarcascades, typed
    return cv2.CascadeClassifier(str(cascades / "haarcascade_frontalface_default.xml"))


def _load(path: Path) -> np.ndarray[Any, Any]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImage("not an image OpenCV can decode")
    return image


def faces(image: np.ndarray[Any, Any]) -> list[Box]:
    grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    found = _faces_model().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))
    return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


def _ocr_lines(image: np.ndarray[Any, Any]) -> Iterator[tuple[str, list[tuple[int, int, Box]]]]:
    """Each OCR line's text and its words as (start, end, box)."""
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], list[tuple[str, Box]]] = {}
    for i, word in enumerate(data["text"]):
        if word.strip():
            where = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            box = Box(data["left"][i], data["top"][i], data["width"][i], data["height"][i])
            lines.setdefault(where, []).append((word, box))
    for words in lines.values():
        text, spans = "", []
        for word, box in words:
            if text:
                text += " "
            spans.append((len(text), len(text) + len(word), box))
            text += word
        yield text, spans


def scan_image(path: Path, scanner: Scanner) -> list[ImageFinding]:
    """Faces, then PII in the image's text. Raises UnreadableImage."""
    image = _load(path)
    found = []
    if "FACE" in scanner.entities:
        face = ENTITIES["FACE"]
        for box in faces(image):
            finding = Finding(0, 0, "FACE", face.category, FACE_SCORE, "haar_cascade")
            found.append(ImageFinding(finding, box, 0, ""))
    for number, (text, words) in enumerate(_ocr_lines(image), start=1):
        for finding in scanner.scan(text):
            covered = [
                box for start, end, box in words if start < finding.end and finding.start < end
            ]
            box = covered[0]
            for other in covered[1:]:
                box = box.union(other)
            found.append(ImageFinding(finding, box, number, text))
    return found


def redact_image(source: Path, target: Path, scanner: Scanner) -> int:
    """Write ``source`` with faces blurred and text PII painted out; how many regions."""
    image = _load(source)
    found = scan_image(source, scanner)
    for item in found:
        b = item.box
        if item.finding.entity == "FACE":  # the cascade's box is tight: take hair and chin
            b = b.padded(0.25, image.shape[1], image.shape[0])
        region = image[b.y : b.y + b.height, b.x : b.x + b.width]
        if item.finding.entity == "FACE":
            # Pixelate to a 6x6 mosaic, then blur it: a blur alone leaves a face that the
            # same cascade (or a person) still recognises.
            mosaic = cv2.resize(region, (6, 6), interpolation=cv2.INTER_AREA)
            mosaic = cv2.resize(mosaic, (b.width, b.height), interpolation=cv2.INTER_NEAREST)
            kernel = max(3, (min(b.width, b.height) // 4) | 1)
            image[b.y : b.y + b.height, b.x : b.x + b.width] = cv2.GaussianBlur(
                mosaic, (kernel, kernel), 0
            )
        else:
            cv2.rectangle(image, (b.x, b.y), (b.x + b.width, b.y + b.height), (0, 0, 0), -1)
    with replacing(target) as temporary:
        if not cv2.imwrite(str(temporary), image):
            raise UnreadableImage(f"cannot write {target.suffix} images")
    return len(found)
