"""Write docs/records.md from the category registry (``--check``: fail if stale)."""

from __future__ import annotations

import sys
from pathlib import Path

from needtoknow.categories import seed_registry
from needtoknow.categories.schema import markdown

TARGET = Path(__file__).parents[1] / "docs" / "records.md"


def main() -> None:
    text = markdown(seed_registry())
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text("utf-8") != text:
            raise SystemExit(
                "docs/records.md is stale: run .venv/bin/python scripts/records_reference.py"
            )
        return
    TARGET.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
