"""``ntk policy check`` reports every problem at once, each with its line;
``ntk policy explain --policy FILE`` needs no vault; ``ntk policy who`` and ``what`` cut
the policy's grant matrix by category and by recipient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needtoknow.errors import PolicyError
from needtoknow.policy import load_policy, load_policy_text
from needtoknow.policy.engine import Engine
from tests.conftest import Ntk

POLICY = Path(__file__).parents[2] / "policies" / "nextraone.yaml"


def _broken(tmp_path: Path) -> tuple[Path, list[int]]:
    """The demo policy with three typos in three rules: the line of each."""
    lines = POLICY.read_text("utf-8").splitlines()
    typos = {
        "    recipient: billing_team": "    recipient: billing_tem",
        "    recipient: support_team": "    recipient: suport_team",
        "    purpose: bill_collection": "    purpose: bill_colection",
    }
    broken: list[int] = []
    for number, line in enumerate(lines):
        if line in typos:
            lines[number] = typos.pop(line)
            broken.append(number + 1)
    assert not typos
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path, broken


def test_check_reports_every_error_at_once_with_its_line(ntk: Ntk, tmp_path: Path) -> None:
    path, broken = _broken(tmp_path)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    problems = raised.value.details()["errors"]
    assert len(problems) == 3
    # each names the rule's line (the rule's first line: the key's own, one above or so)
    for problem, line in zip(problems, broken, strict=True):
        assert problem["line"] is not None and 0 <= line - problem["line"] <= 2, (problem, line)
    assert "did you mean billing_team?" in problems[0]["problem"]
    said = ntk("policy", "check", str(path), "--json", expect=6)
    assert [e["line"] for e in json.loads(said.stderr)["errors"]] == [p["line"] for p in problems]
    human = "".join(ntk("policy", "check", str(path), expect=6).stderr.split())  # Rich wraps
    assert all(f"broken.yaml:{p['line']}:" in human for p in problems)


def test_names_are_checked_before_the_rules_that_use_them(tmp_path: Path) -> None:
    """A bad purpose is reported with every other bad name; rules are read once the
    names load, so no rule is blamed for a name that failed above it."""
    text = POLICY.read_text("utf-8")
    text = text.replace("legal_basis: voluntarily_provided", "legal_basis: contrakt", 2)
    with pytest.raises(PolicyError) as raised:
        load_policy_text(text, "two.yaml")
    problems = raised.value.details()["errors"]
    assert len(problems) == 2 and all("legal_basis" in p["problem"] for p in problems)


def test_explain_with_a_policy_file_needs_no_vault(ntk: Ntk, tmp_path: Path) -> None:
    pair = ("--recipient", "billing_team", "--purpose", "billing")
    from_vault = ntk.json("policy", "explain", *pair)
    ntk.env["NTK_HOME"] = str(tmp_path / "nowhere")
    from_file = ntk.json("policy", "explain", *pair, "--policy", str(POLICY))
    assert from_file == from_vault
    assert not (tmp_path / "nowhere").exists()


def test_who_and_what_cut_the_matrix_and_agree_with_decide(ntk: Ntk) -> None:
    who = ntk.json("policy", "who", "--category", "card_number")
    holders = {(g["recipient"], g["purpose"]): g["transform"] for g in who["grants"]}
    assert holders[("billing_team", "billing")] == "last4"
    assert not any(r == "ad_network" for r, _ in holders)  # advertisers: aggregates only
    served = Engine(load_policy(POLICY)[0]).served()  # what decide compiles from
    assert holders == {
        pair: grants["card_number"]
        for pair, (grants, _) in served.items()
        if "card_number" in grants
    }
    what = ntk.json("policy", "what", "--recipient", "collection_agency", "--policy", str(POLICY))
    assert {g["purpose"] for g in what["grants"]} == {"bill_collection"}
    assert all(any(r.startswith("agreement ") for r in g["requires"]) for g in what["grants"])
    refused = ntk("policy", "who", "--category", "telefone", "--json", expect=5)
    assert "did you mean telephone?" in json.loads(refused.stderr)["message"]
