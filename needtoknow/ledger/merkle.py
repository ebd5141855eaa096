"""RFC 6962 Merkle trees: hashes, subtree roots, and inclusion and consistency proofs.

Pure functions, no storage: a tree is read through a :class:`HashReader` that returns
the hash of a *complete* subtree (2**level leaves, aligned), which is all RFC 6962's
recursion ever needs. Leaf and interior hashes carry the 0x00 / 0x01 prefixes of
RFC 6962 §2.1 so a leaf can never be passed off as a node (the second-preimage attack
on naive Merkle trees). Checkers follow RFC 9162 §2.1.3.2 and §2.1.4.2 and fail with one
opaque :class:`~needtoknow.errors.IntegrityError`, like the rest of the package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from needtoknow.errors import IntegrityError

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class HashReader(Protocol):
    def complete(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree over leaves [index * 2**level, (index+1) * 2**level)."""
        ...


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def leaf_hashes(entries: list[bytes]) -> list[bytes]:
    """:func:`leaf_hash` of each, without a call per entry (verification's hot loop)."""
    sha256 = hashlib.sha256
    return [sha256(b"\x00" + data).digest() for data in entries]


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def parents(level: list[bytes]) -> list[bytes]:
    """:func:`node_hash` of each pair of neighbours (0 and 1, 2 and 3, …): the level
    above, its complete nodes only, without a call per node."""
    sha256 = hashlib.sha256
    return [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(tree: HashReader, lo: int, hi: int) -> bytes:
    """MTH of leaves [lo, hi), from O(log n) complete subtrees."""
    n = hi - lo
    if n <= 0:
        raise ValueError("empty range")
    if n & (n - 1) == 0 and lo % n == 0:
        return tree.complete(n.bit_length() - 1, lo // n)
    k = _split(n)
    return node_hash(subtree_hash(tree, lo, lo + k), subtree_hash(tree, lo + k, hi))


def root(tree: HashReader, size: int) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree_hash(tree, 0, size)


def inclusion_proof(tree: HashReader, index: int, size: int) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            proof.append(subtree_hash(tree, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(tree, lo, lo + k))
            lo += k
    proof.reverse()
    return proof


def consistency_proof(tree: HashReader, old_size: int, new_size: int) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(old_size, D[0:new_size])."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    proof: list[bytes] = []
    lo, hi, m, whole = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree_hash(tree, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(tree, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(subtree_hash(tree, lo, hi))
    proof.reverse()
    return proof


def check_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Raise IntegrityError unless ``proof`` shows ``leaf`` at ``index`` under the root."""
    if not 0 <= index < size or any(len(p) != HASH_BYTES for p in proof):
        raise IntegrityError()
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise IntegrityError()
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != expected_root:
        raise IntegrityError()


def check_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise IntegrityError unless ``proof`` shows the old tree is a prefix of the new one."""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_BYTES for p in proof):
        raise IntegrityError()
    if old_size == new_size:
        if proof or old_root != new_root:
            raise IntegrityError()
        return
    if old_size == 0:
        if proof or old_root != EMPTY_ROOT:
            raise IntegrityError()
        return
    if not proof:
        raise IntegrityError()
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise IntegrityError()
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise IntegrityError()
