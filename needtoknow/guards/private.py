"""Files that hold personal data or keys (the key file, disclosure packages, ledger
exports): readable by their owner only from the first byte.

Each is written to a fresh temporary file beside it — ``mkstemp``: created exclusively,
mode 0600, so nobody else can have opened or prepared it — and renamed over the target
only once complete, so the target is never readable by others, never half written, and
an earlier file's looser mode does not carry over.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose contents replace ``path`` (mode 0600) when the block ends;
    if it raises, ``path`` is left as it was."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    """``data`` as the whole of ``path``, mode 0600 (see :func:`private_file`)."""
    with private_file(path) as handle:
        handle.write(data)
