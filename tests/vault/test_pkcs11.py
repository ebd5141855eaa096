"""The pkcs11 key provider against a real SoftHSM2 token the test initialises itself."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.errors import IntegrityError, KeyProviderError
from needtoknow.ledger import audit
from tests.conftest import Clock, need_service
from tests.customers import ASHA, RAVI, lookup

pytestmark = pytest.mark.pkcs11
MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


def _module() -> str | None:
    configured = os.environ.get("NTK_TEST_PKCS11_MODULE")
    return configured or next((m for m in MODULES if Path(m).exists()), None)


_TOKENS = 11  # SoftHSM2 only sees tokens that exist when a process first loads it


@pytest.fixture(scope="session")
def softhsm_tokens(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A private SoftHSM2 store with a pool of initialised tokens, made before the module
    is first loaded (it reads SOFTHSM2_CONF and the token list once per process)."""
    module = _module()
    if not module or not shutil.which("softhsm2-util"):
        need_service("SoftHSM2 is not installed", "run scripts/test-services.sh")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    labels = [f"ntk-test-{i}" for i in range(_TOKENS)]
    for label in labels:
        subprocess.run(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                "1234",
                "--so-pin",
                "5678",
            ],
            check=True,
            capture_output=True,
        )
    return labels


@pytest.fixture
def softhsm(softhsm_tokens: list[str]) -> dict[str, str]:
    """A fresh, unused token for one test."""
    if not softhsm_tokens:
        raise AssertionError(f"raise _TOKENS: more than {_TOKENS} tests use SoftHSM2")
    return {"module": str(_module()), "token": softhsm_tokens.pop(), "pin": "1234"}


def _settings(tmp_path: Path, hsm: dict[str, str], pin: str | None = None) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'v.db'}",
        key_provider="pkcs11",
        pkcs11_module=hsm["module"],
        pkcs11_token=hsm["token"],
        pkcs11_pin=pin or hsm["pin"],
    )


def test_vault_round_trip_with_keys_in_the_hsm(tmp_path: Path, softhsm: dict[str, str]) -> None:
    vault = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    assert vault.keys.name == "pkcs11"
    assert not (tmp_path / "home" / "keys.json").exists()
    cid = vault.add(ASHA).customer_id
    assert lookup(vault, "email", ASHA["email"]) == [cid]
    reopened = open_vault(_settings(tmp_path, softhsm), clock=Clock())
    got = reopened.get(cid, recipient="billing_team", purpose="billing")
    assert got.values["name"] == "Asha Canarywala"


def test_rotation_and_retirement_in_the_hsm(tmp_path: Path, softhsm: dict[str, str]) -> None:
    vault = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    cid = vault.add(ASHA).customer_id
    assert vault.rotate_keys().rewrapped == 1
    vault.retire_key(1)
    reopened = open_vault(_settings(tmp_path, softhsm), clock=Clock())
    assert reopened.keys.versions() == (2,)
    assert reopened.get(cid, recipient="billing_team", purpose="billing").values["email"]


def test_the_ledger_signing_key_rotates_in_the_hsm(tmp_path: Path, softhsm: dict[str, str]) -> None:
    vault = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    vault.add(ASHA)
    old = vault.ledger.sign_head()
    new = vault.rotate_signing_key()
    assert new.public_key != old.public_key
    reopened = open_vault(_settings(tmp_path, softhsm), clock=Clock())
    assert reopened.keys.signing_keys() == (old.public_key, new.public_key)
    assert reopened.keys.signing_public_key() == new.public_key
    reopened.add(RAVI)
    assert reopened.ledger.sign_head().public_key == new.public_key
    assert reopened.ledger.verify([old]).ok
    out = io.StringIO()  # the HSM's old key endorsed the new one before it was destroyed
    reopened.ledger.export(out)
    assert audit.verify_export(out.getvalue().splitlines(), [old.public_key]).ok


@pytest.mark.parametrize("cut_off", ["before the endorsement", "before the entry"])
def test_an_hsm_rotation_cut_off_is_endorsed_by_the_next_head(
    tmp_path: Path, softhsm: dict[str, str], cut_off: str
) -> None:
    """A process that dies mid-rotation leaves either the old private key beside the
    new one (then the next head's process makes the endorsement and destroys the old
    key) or the endorsement stored on the token (then it is ledgered): either way the
    old key's witness follows, and the old private key is gone."""
    from pkcs11 import ObjectClass
    from pkcs11.exceptions import NoSuchKey

    from needtoknow.crypto.pkcs11 import Pkcs11Keys

    vault = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    vault.add(ASHA)
    old = vault.ledger.sign_head()
    assert isinstance(vault.keys, Pkcs11Keys)
    if cut_off == "before the endorsement":
        vault.keys._generate_signing_key(2)  # the new generation exists, nothing else
    else:
        vault.keys.rotate_signing()
    vault.close()

    reopened = open_vault(_settings(tmp_path, softhsm), clock=Clock())
    reopened.add(RAVI)
    new = reopened.ledger.sign_head()
    assert new.public_key != old.public_key
    reopened.ledger.sign_head()
    out = io.StringIO()
    reopened.ledger.export(out)
    lines = out.getvalue().splitlines()
    entries = [base64.b64decode(json.loads(line).get("entry", "")) for line in lines]
    assert sum(b'"ledger_signing"' in entry for entry in entries) == 1
    followed = audit.verify_export(lines, [old.public_key])
    assert followed.ok, followed.problems
    assert reopened.keys.pending_endorsement() is None
    assert isinstance(reopened.keys, Pkcs11Keys)
    with pytest.raises(NoSuchKey):  # nobody can sign as the old key any more
        reopened.keys._session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="ntk-ledger")
    reopened.close()


def test_an_endorsement_planted_on_the_token_is_not_ledgered(
    tmp_path: Path, softhsm: dict[str, str]
) -> None:
    """Review, session 18: a public data object named like an endorsement (anyone with a
    session but no PIN can make one) stopped the real endorsement from being stored and
    was ledgered in its place. Only private objects count, and only one that verifies."""
    from pkcs11 import Attribute, ObjectClass

    from needtoknow.crypto.pkcs11 import Pkcs11Keys

    vault = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    vault.add(ASHA)
    old = vault.ledger.sign_head()
    assert isinstance(vault.keys, Pkcs11Keys)
    vault.keys._session.create_object(
        {
            Attribute.CLASS: ObjectClass.DATA,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: "ntk-ledger-endorsement-2",
            Attribute.VALUE: b"\x02" * 128,
        }
    )
    new = vault.rotate_signing_key()
    out = io.StringIO()
    vault.ledger.export(out)
    lines = out.getvalue().splitlines()
    items = [json.loads(line) for line in lines]
    entries = [json.loads(base64.b64decode(item["entry"])) for item in items if "entry" in item]
    done = [e["detail"] for e in entries if e.get("detail", {}).get("phase") == "done"]
    assert [d["public_key"] for d in done] == [new.public_key.hex()]
    followed = audit.verify_export(lines, [old.public_key])
    assert followed.ok, followed.problems
    vault.close()


def test_hsm_detects_tampering(tmp_path: Path, softhsm: dict[str, str]) -> None:
    vault = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    wrapped = vault.keys.wrap(1, b"k" * 32, b"customer-a")
    assert vault.keys.unwrap(1, wrapped, b"customer-a") == b"k" * 32
    with pytest.raises(IntegrityError):
        vault.keys.unwrap(1, wrapped, b"customer-b")
    with pytest.raises(IntegrityError):
        vault.keys.unwrap(1, wrapped[:-1] + bytes([wrapped[-1] ^ 1]), b"customer-a")


def test_wrong_pin_is_a_key_provider_error(tmp_path: Path, softhsm: dict[str, str]) -> None:
    with pytest.raises(KeyProviderError, match=r"cannot open PKCS#11 token.*PinIncorrect"):
        init_vault(_settings(tmp_path, softhsm, pin="0000"), clock=Clock())


def test_unknown_token_is_a_key_provider_error(tmp_path: Path, softhsm: dict[str, str]) -> None:
    with pytest.raises(KeyProviderError, match="cannot open PKCS#11 token"):
        init_vault(_settings(tmp_path, {**softhsm, "token": "no-such-token"}), clock=Clock())


def test_concurrent_reads_through_two_providers_are_safe(
    tmp_path: Path, softhsm: dict[str, str]
) -> None:
    """Two providers (two sessions) used from several threads at once: the module must
    see one call at a time, or SoftHSM2 corrupts memory."""
    first = init_vault(_settings(tmp_path, softhsm), clock=Clock())
    second = open_vault(_settings(tmp_path, softhsm), clock=Clock())
    cid = first.add(ASHA).customer_id

    def read(index: int) -> str:
        vault = (first, second)[index % 2]
        return str(vault.get(cid, recipient="billing_team", purpose="billing").values["name"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        names = list(pool.map(read, range(400)))
    assert set(names) == {"Asha Canarywala"}
