"""RFC 6962 Merkle trees: published vectors, every leaf of every size, every flipped bit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from needtoknow.errors import IntegrityError
from needtoknow.ledger.merkle import (
    EMPTY_ROOT,
    check_consistency,
    check_inclusion,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
)


class MemoryTree:
    """All leaf hashes in a list: a HashReader for tests."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.leaves = list(leaves)

    def complete(self, level: int, index: int) -> bytes:
        if level == 0:
            return self.leaves[index]
        left = self.complete(level - 1, 2 * index)
        return node_hash(left, self.complete(level - 1, 2 * index + 1))


VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc6962.json").read_text())
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves"]]
TREE = MemoryTree([leaf_hash(data) for data in LEAVES])


def test_published_roots() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
    for size, expected in VECTORS["roots"].items():
        assert root(TREE, int(size)).hex() == expected


@pytest.mark.parametrize(
    "vector", VECTORS["inclusion"], ids=lambda v: f"{v['leaf_index']}@{v['tree_size']}"
)
def test_published_inclusion_proofs(vector: dict[str, object]) -> None:
    index, size = int(vector["leaf_index"]), int(vector["tree_size"])  # type: ignore[call-overload]
    proof = [p.hex() for p in inclusion_proof(TREE, index, size)]
    assert proof == vector["proof"]
    check_inclusion(
        TREE.leaves[index],
        index,
        size,
        inclusion_proof(TREE, index, size),
        bytes.fromhex(VECTORS["roots"][str(size)]),
    )


@pytest.mark.parametrize(
    "vector", VECTORS["consistency"], ids=lambda v: f"{v['size1']}-{v['size2']}"
)
def test_published_consistency_proofs(vector: dict[str, object]) -> None:
    old, new = int(vector["size1"]), int(vector["size2"])  # type: ignore[call-overload]
    proof = consistency_proof(TREE, old, new)
    assert [p.hex() for p in proof] == vector["proof"]
    check_consistency(old, new, root(TREE, old), root(TREE, new), proof)


def _tree(size: int) -> MemoryTree:
    return MemoryTree([leaf_hash(i.to_bytes(4, "big")) for i in range(size)])


def _flipped(proof: list[bytes], item: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[item])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:item], bytes(changed), *proof[item + 1 :]]


@pytest.mark.slow
def test_every_leaf_of_every_tree_up_to_64_proves_and_any_flipped_bit_fails() -> None:
    for size in range(1, 65):
        tree = _tree(size)
        top = root(tree, size)
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            check_inclusion(tree.leaves[index], index, size, proof, top)
            for item in range(len(proof)):
                for bit in (0, 77, 255):
                    with pytest.raises(IntegrityError):
                        check_inclusion(
                            tree.leaves[index], index, size, _flipped(proof, item, bit), top
                        )
            if size > 1:
                with pytest.raises(IntegrityError):
                    check_inclusion(tree.leaves[index], (index + 1) % size, size, proof, top)


@pytest.mark.slow
def test_every_pair_of_sizes_up_to_40_is_consistent_and_tampering_fails() -> None:
    tree = _tree(40)
    for new in range(1, 41):
        for old in range(1, new + 1):
            proof = consistency_proof(tree, old, new)
            check_consistency(old, new, root(tree, old), root(tree, new), proof)
            for item in range(len(proof)):
                with pytest.raises(IntegrityError):
                    check_consistency(
                        old, new, root(tree, old), root(tree, new), _flipped(proof, item, 5)
                    )
            if old < new:
                with pytest.raises(IntegrityError):
                    check_consistency(old, new, root(tree, old), root(tree, new - 1), proof)


def test_bad_arguments_fail_closed() -> None:
    with pytest.raises(IntegrityError):
        check_inclusion(TREE.leaves[0], 8, 8, [], root(TREE, 8))
    with pytest.raises(IntegrityError):
        check_consistency(3, 2, root(TREE, 3), root(TREE, 2), [])
    with pytest.raises(IntegrityError):
        check_consistency(2, 5, root(TREE, 2), root(TREE, 5), [])
    with pytest.raises(ValueError):
        inclusion_proof(TREE, 3, 3)


def test_consistency_from_an_empty_tree_needs_the_empty_root() -> None:
    check_consistency(0, 8, EMPTY_ROOT, root(TREE, 8), [])
    with pytest.raises(IntegrityError):
        check_consistency(0, 8, root(TREE, 1), root(TREE, 8), [])
