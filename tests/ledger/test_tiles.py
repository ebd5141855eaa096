"""``ntk ledger tiles``: the ledger as C2SP tlog-tiles with a signed checkpoint, checked by
an independent implementation — Go's golang.org/x/mod/sumdb/tlog and note
(tests/ledger/tlogverify) — and against the specification's own example."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from needtoknow.ledger import Entry, Ledger, TreeHead
from needtoknow.ledger.tiles import checkpoint, tile_path
from needtoknow.vault import Vault
from tests.conftest import Ntk, need_service
from tests.customers import ASHA, RAVI

VERIFIER = Path(__file__).parent / "tlogverify" / "main.go"
GOPATH = "/usr/share/gocode"  # Debian's golang-golang-x-mod-dev: nothing downloaded


@pytest.fixture(scope="session")
def tlogverify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go verifier, built once from Debian's packages (GOPATH mode, offline)."""
    if shutil.which("go") is None or not Path(GOPATH, "src/golang.org/x/mod").is_dir():
        need_service("no Go toolchain with x/mod", "run scripts/test-services.sh")
    work = tmp_path_factory.mktemp("go")
    binary = work / "tlogverify"
    environment = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": GOPATH,
        "GOCACHE": str(work / "cache"),
        "GOFLAGS": "",
    }
    subprocess.run(
        ["go", "build", "-o", str(binary), str(VERIFIER)],
        env=environment,
        check=True,
        capture_output=True,
    )
    return binary


def go_verify(
    binary: Path, directory: Path, key: str, *more: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-dir", str(directory), "-key", key, *more],
        capture_output=True,
        text=True,
        timeout=120,
    )


def checked(binary: Path, directory: Path, key: str, *more: str) -> dict[str, int | str]:
    ran = go_verify(binary, directory, key, *more)
    assert ran.returncode == 0, ran.stderr
    found: dict[str, int | str] = json.loads(ran.stdout)
    return found


def grow(vault: Vault, count: int) -> None:
    """Append ``count`` entries quickly (one transaction) and seal them."""
    now = datetime(2026, 12, 5, tzinfo=UTC)
    entries = [Entry(kind="audit", time=now, actor="test", detail={"n": i}) for i in range(count)]
    with vault.db.begin() as conn:
        Ledger.append_many(conn, entries)
    vault.ledger.sign_head()


@pytest.fixture
def busy(vault: Vault) -> Iterator[Vault]:
    for customer in (ASHA, RAVI, ASHA):
        vault.add(customer)
    grow(vault, 600)  # three full level-0 tiles, a partial one, a partial level-1 tile
    yield vault


def test_tile_paths_are_the_specifications() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 0) == "tile/0/000"
    assert tile_path(1, 1000, 17) == "tile/1/x001/000.p/17"
    assert tile_path("entries", 5, 112) == "tile/entries/005.p/112"


def test_go_verifies_the_tiles_the_entries_and_consistency_with_an_older_checkpoint(
    busy: Vault, tmp_path: Path, tlogverify: Path
) -> None:
    out = tmp_path / "tiles"
    first = busy.ledger.tiles(out, "ledger.example.com/ntk", entries=True)
    old = tmp_path / "old-checkpoint"
    shutil.copy(out / "checkpoint", old)
    found = checked(tlogverify, out, first.verifier_key, "-entries")
    assert found["tree_size"] == first.tree_size == found["inclusions_checked"]
    assert found["entries_checked"] == first.tree_size
    grow(busy, 300)
    second = busy.ledger.tiles(out, "ledger.example.com/ntk", entries=True)
    assert second.tree_size == first.tree_size + 300
    found = checked(tlogverify, out, second.verifier_key, "-entries", "-old", str(old))
    assert found["consistent_with"] == first.tree_size
    # Full tiles are written once: the second run wrote the new ones and the partials.
    assert second.tiles_written < first.tiles_written + 3


def test_go_rejects_a_changed_tile_a_foreign_key_and_a_forked_log(
    busy: Vault, tmp_path: Path, tlogverify: Path
) -> None:
    out = tmp_path / "tiles"
    published = busy.ledger.tiles(out)
    tile = out / tile_path(0, 1)
    good = tile.read_bytes()
    tile.chmod(0o644)
    tile.write_bytes(good[:100] + bytes([good[100] ^ 1]) + good[101:])
    assert go_verify(tlogverify, out, published.verifier_key).returncode == 1
    tile.write_bytes(good)
    assert go_verify(tlogverify, out, published.verifier_key).returncode == 0
    other = "needtoknow/ledger+00000000+" + "AQ" + "A" * 42 + "="  # another key
    assert go_verify(tlogverify, out, other).returncode == 1
    # A checkpoint the vault's key signed for another history of three entries (a fork).
    fork = TreeHead(3, b"\x07" * 32, 0, b"", b"")
    note, _ = checkpoint(
        "needtoknow/ledger",
        fork,
        lambda text: (busy.keys.sign(text), busy.keys.signing_public_key()),
    )
    (tmp_path / "fork").write_text(note)
    forked = go_verify(tlogverify, out, published.verifier_key, "-old", str(tmp_path / "fork"))
    assert forked.returncode == 1 and "consistency" in forked.stderr


def test_the_specifications_example_of_70000_entries(
    sqlite_vault: Vault, tmp_path: Path, tlogverify: Path
) -> None:
    """c2sp.org/tlog-tiles: "a tree of size 70,000 will be represented by 273 full level
    0 tiles, one partial level 0 tile of width 112, one full level 1 tile, one partial
    level 1 tile of width 17, and one partial level 2 tile of width 1"."""
    size = sqlite_vault.ledger.sign_head().tree_size
    grow(sqlite_vault, 70_000 - size)
    out = tmp_path / "tiles"
    published = sqlite_vault.ledger.tiles(out)
    assert published.tree_size == 70_000
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    level0 = [p for p in written if p.startswith("tile/0/")]
    assert len(level0) == 274 and "tile/0/273.p/112" in level0
    assert [p for p in written if p.startswith("tile/1/")] == ["tile/1/000", "tile/1/001.p/17"]
    assert [p for p in written if p.startswith("tile/2/")] == ["tile/2/000.p/1"]
    assert (out / "tile/0/272").stat().st_size == 8192
    found = checked(tlogverify, out, published.verifier_key, "-every", "997")
    assert found["tree_size"] == 70_000


def test_only_hashes_are_public_and_entries_are_owner_only(busy: Vault, tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    assert busy.ledger.tiles(out).bundles_written == 0
    assert not (out / "tile" / "entries").exists()
    customer = busy.customer_ids(limit=1)[0].encode()
    for path in out.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o644
            assert customer not in path.read_bytes()
    busy.ledger.tiles(out, entries=True)
    bundle = out / tile_path("entries", 0)
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600 and customer in bundle.read_bytes()


def test_tiles_from_the_command_line(ntk: Ntk, tmp_path: Path, tlogverify: Path) -> None:
    out = tmp_path / "public"
    published = ntk.json("ledger", "tiles", str(out), "--origin", "example.com/log")
    assert set(published) == {
        "directory",
        "origin",
        "tree_size",
        "root_hash",
        "tiles_written",
        "bundles_written",
        "verifier_key",
    }
    assert checked(tlogverify, out, published["verifier_key"])["origin"] == "example.com/log"
    refused = ntk("ledger", "tiles", str(out), "--origin", "has space", expect=1)
    assert "origin" in refused.stderr
