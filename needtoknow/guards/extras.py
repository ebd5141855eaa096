"""The optional parts of needtoknow and what each needs installed.

``pip install needtoknow`` is the vault, the policy engine, the ledger and the CLI. The
rest comes with an extra (``pip install 'needtoknow[analytics]'``); each optional
package calls :func:`require` before importing its libraries, so a missing one is a
sentence naming the extra to install, not a traceback from deep inside an import.
"""

from __future__ import annotations

import importlib.util
import sys

from needtoknow.errors import MissingExtra

# extra → the modules it provides (import names, not distribution names)
EXTRAS: dict[str, tuple[str, ...]] = {
    "api": ("fastapi", "uvicorn", "limits"),
    "client": ("httpx",),
    "detect": ("re2", "cv2", "pytesseract", "pyarrow"),
    "analytics": ("duckdb", "pyarrow", "opendp"),
    "incidents": ("fpdf",),
    "demo": ("faker",),
    "spark": ("pyspark", "pandas"),
    "ner": ("spacy",),
    "postgresql": ("psycopg",),
    "pkcs11": ("pkcs11",),
}


def require(extra: str) -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` can be imported
    (found, not imported: the check costs no import)."""
    missing = [module for module in EXTRAS[extra] if not _present(module)]
    if missing:
        raise MissingExtra(extra, missing)


def _present(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: imports of it are blocked
    return importlib.util.find_spec(module) is not None
