"""Property-based fuzzing (issue 15) of the policy loader: random mutations of the
NextraOne policy — keys deleted, values of the wrong type, duplicated keys, YAML aliases
and bombs, huge documents — are refused only with a PolicyError, quickly."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from needtoknow.config import demo_policy_text
from needtoknow.errors import PolicyError
from needtoknow.policy import load_policy_text

TEXT = demo_policy_text()
DATA = yaml.safe_load(TEXT)
FUZZ = settings(max_examples=100, deadline=None)

values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.dates(),
        st.sampled_from(["contract", "consent", "full", "billing", "name", "sale"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a mapping value or list item in the parsed policy."""
    found: list[tuple[Any, ...]] = []
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


PATHS = paths(DATA)


def refused_cleanly(text: str) -> None:
    try:
        load_policy_text(text, "fuzzed.yaml")
    except PolicyError as refused:
        assert str(refused).startswith("fuzzed.yaml")
        lines = str(refused).splitlines()  # one line a problem: each names, never echoes
        assert all(len(line) < 1000 for line in lines), "the message echoes a huge value"


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.booleans(), values), min_size=1, max_size=4))
def test_deleted_keys_and_wrong_types_are_policy_errors(
    mutations: list[tuple[tuple[Any, ...], bool, Any]],
) -> None:
    data = copy.deepcopy(DATA)
    for path, delete, value in mutations:
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    refused_cleanly(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(line=st.integers(0, TEXT.count("\n") - 1), copies=st.integers(1, 3))
def test_duplicated_lines_are_policy_errors(line: int, copies: int) -> None:
    lines = TEXT.split("\n")
    refused_cleanly("\n".join(lines[: line + 1] + [lines[line]] * copies + lines[line + 1 :]))


@FUZZ
@given(position=st.integers(0, len(TEXT)), noise=st.text(max_size=30))
def test_random_text_anywhere_is_a_policy_error(position: int, noise: str) -> None:
    refused_cleanly(TEXT[:position] + noise + TEXT[position:])


def test_yaml_aliases_and_bombs_are_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12)
    )
    for text in (
        bomb,
        TEXT.replace("\npurposes:\n", "\nx: &p 1\npurposes:\n", 1),
        TEXT + "\nname: *n\n",
    ):
        try:
            load_policy_text(text, "fuzzed.yaml")
        except PolicyError as refused:
            assert str(refused).startswith("fuzzed.yaml")
        else:
            raise AssertionError("a policy with aliases was loaded")


def test_a_huge_policy_is_refused() -> None:
    huge = TEXT + "\n# " + "x" * 2_000_000 + "\n"
    try:
        load_policy_text(huge, "fuzzed.yaml")
    except PolicyError as refused:
        assert "larger than" in str(refused)
    else:
        raise AssertionError("a 2 MB policy was loaded")
