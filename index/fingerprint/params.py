"""Every tuned constant of the fingerprint 1:N index, in one place."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IndexParams", "DEFAULT_INDEX_PARAMS", "INDEX_VERSION"]

#: Bumped whenever a change makes saved index files unreadable or wrong.
INDEX_VERSION = 2  # 2: segments (packed galleries + CSR bucket levels)


@dataclass(frozen=True)
class IndexParams:
    """Parameters of the MCC min-hash index (after Cappelli, Ferrara & Maltoni, TPAMI 33(5), 2011).

    The binary cylinders of the matcher are sparse (about 7% of the bits set),
    so bit sampling, the hash of the paper, gives mostly empty keys; min-hash
    over the set bits estimates their Jaccard similarity instead.
    """

    tables: int = 16  # L: hash tables (4 B per cylinder each; 32 gain 0.5-2 points of hit rate, see docs/afis.md)
    # min-hashes joined into one key: 3 halves the vote time of 2 at the same hit rate
    # (20k perturbed gallery: 45 vs 90 ms, 91.1% of mates in a 200-candidate shortlist either way)
    per_key: int = 3
    key_bits: int = 20  # at most 2**key_bits buckets per table (keys are folded)
    seed: int = 20110501  # permutations; part of the file format
    # a probe also looks up, per table, the keys with one min-hash replaced by its second-lowest rank:
    # 50k warped gallery, 16 tables, mates among the best-voted 1%: prints 87.6 -> 89.5%, marks 80.5 -> 82.9%
    multi_probe: bool = True
    count_power: float = 1.0  # a probe cylinder's best collision count c votes c ** count_power
    size_power: float = 0.5  # votes are divided by (gallery cylinders of the finger) ** size_power
    max_bucket: int = 50_000  # larger buckets carry no information and are skipped
    min_shortlist: int = 200  # candidates always re-scored (a smaller gallery is searched exhaustively)
    penetration: float = 0.01  # share of the gallery re-scored beyond min_shortlist
    # TP->TP: records whose fingers are re-scored, as a share of the fingers eligible per probe finger
    record_penetration: float = 0.002
    # TP->TP probes with at least this many fingers look up their keys only (no multi-probe variants): fusing
    # the fingers makes up for the mates one finger's votes miss, and the vote takes half the time (200k warped
    # gallery, 21 tenprints of FVC mates: fused mate rank 0 for every 10-finger probe either way, 74 vs 125-140 ms;
    # with 2 fingers single-probe lost ranks, hence the floor; see docs/afis.md)
    record_single_probe_fingers: int = 4
    # segments (see segment.py): pending fingers are packed every flush_fingers adds (and at every search);
    # adjacent segments merge while the older is at most merge_ratio times the newer, up to max_segment fingers
    flush_fingers: int = 2048
    merge_ratio: int = 4
    max_segment: int = 1 << 17
    search_threads: int = 2  # threads of one search (voting and re-scoring release the GIL)


    def __post_init__(self):
        if not 1 <= self.tables <= 255:  # collision counts are uint8
            raise ValueError(f"tables must be in 1..255, got {self.tables}")
        if not 1 <= self.per_key <= 3 or not 10 <= self.key_bits <= 24:
            raise ValueError("per_key must be in 1..3 and key_bits in 10..24")
        if self.flush_fingers < 1 or self.merge_ratio < 1 or self.max_segment < 1 or self.search_threads < 1:
            raise ValueError("flush_fingers, merge_ratio, max_segment and search_threads must be positive")
        if self.record_single_probe_fingers < 1:
            raise ValueError(f"record_single_probe_fingers must be >= 1, got {self.record_single_probe_fingers}")


DEFAULT_INDEX_PARAMS = IndexParams()
