"""The local key file: created 0600, refused when others can read it, rotated and retired."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from needtoknow.errors import IntegrityError, KeyProviderError
from needtoknow.vault import LocalKeyFile


def test_created_owner_only(tmp_path: Path) -> None:
    keys = LocalKeyFile.create(tmp_path / "keys.json")
    assert stat.S_IMODE(os.stat(keys.path).st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_refuses_a_key_file_others_can_read(tmp_path: Path, mode: int) -> None:
    keys = LocalKeyFile.create(tmp_path / "keys.json")
    keys.path.chmod(mode)
    with pytest.raises(KeyProviderError, match="chmod 600"):
        LocalKeyFile(keys.path)


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    LocalKeyFile.create(tmp_path / "keys.json")
    with pytest.raises(KeyProviderError, match="already exists"):
        LocalKeyFile.create(tmp_path / "keys.json")


def test_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(KeyProviderError, match="ntk init"):
        LocalKeyFile(tmp_path / "keys.json")
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(KeyProviderError, match="corrupt"):
        LocalKeyFile(path)


def test_wrap_binds_associated_data_and_version(tmp_path: Path) -> None:
    keys = LocalKeyFile.create(tmp_path / "keys.json")
    wrapped = keys.wrap(1, b"k" * 32, b"customer-a")
    assert keys.unwrap(1, wrapped, b"customer-a") == b"k" * 32
    with pytest.raises(IntegrityError):
        keys.unwrap(1, wrapped, b"customer-b")
    version = keys.rotate()
    with pytest.raises(IntegrityError):
        keys.unwrap(version, wrapped, b"customer-a")


def test_rotation_persists_and_retirement_destroys(tmp_path: Path) -> None:
    keys = LocalKeyFile.create(tmp_path / "keys.json")
    wrapped = keys.wrap(1, b"k" * 32, b"ad")
    assert keys.rotate() == 2
    reopened = LocalKeyFile(keys.path)
    assert reopened.active_version() == 2 and reopened.versions() == (1, 2)
    with pytest.raises(KeyProviderError, match="active"):
        reopened.retire(2)
    reopened.retire(1)
    with pytest.raises(KeyProviderError, match="not available"):
        LocalKeyFile(keys.path).unwrap(1, wrapped, b"ad")
    assert stat.S_IMODE(os.stat(keys.path).st_mode) == 0o600


def test_mac_keys_are_separate_and_stable(tmp_path: Path) -> None:
    keys = LocalKeyFile.create(tmp_path / "keys.json")
    assert keys.mac("index", b"x") == LocalKeyFile(keys.path).mac("index", b"x")
    assert keys.mac("index", b"x") != keys.mac("token", b"x")
