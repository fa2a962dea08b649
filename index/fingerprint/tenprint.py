"""TP->TP at the index: finger votes fused per record before the matcher runs.

Searching each of ten probe fingers on its own re-scores ten shortlists. The
fingers of one record corroborate each other already at the vote stage, so
the record shortlist can be much shorter than a finger's: each probe finger
votes among the gallery fingers of its position, its best-voted fingers are
kept (the usual finger shortlist), their votes (divided by that finger's
best vote, so every finger counts alike) are summed per record, and only the
fingers of the best ``record_shortlist`` records are re-scored by the matcher.

The fusion also makes the finger votes cheaper: a probe of at least
``IndexParams.record_single_probe_fingers`` fingers looks up each finger's
keys without the multi-probe variants, which halves the vote time. The
mates a single finger's vote misses are carried by the other fingers.
"""
from __future__ import annotations

import math

import numpy as np

from biomatch.matcher.fingerprint import PreparedFingerprint

from .gallery import FingerIndex, Hit

__all__ = ["search_records"]


def search_records(index: FingerIndex, probes: dict[int, PreparedFingerprint], *, top: int = 50,
                   records: int | None = None) -> tuple[dict[int, dict[int, Hit]], int]:
    """Best finger hit per (record, position) among the fused record shortlist, and the comparisons
    an exhaustive search would make (the eligible fingers summed over the probe fingers).

    Parameters
    ----------
    index : FingerIndex
        Fingers with their owners (records) and positions.
    probes : dict
        Finger position (1..10) to the prepared probe finger.
    top : int
        Hits kept per probe finger after re-scoring.
    records : int, optional
        Records re-scored (default ``max(min_shortlist // 10, record_penetration * eligible)``).
    """
    lists, comparisons, fused = {}, 0, {}
    # many fingers: their fused votes make up for one finger's misses, so each looks up its keys only
    multi_probe = None if len(probes) < index.params.record_single_probe_fingers else False
    informative = False  # whether any finger shortlist was ranked by votes (else every vote is 1)
    for p, pf in probes.items():
        slots, eligible, votes = index.shortlist(pf, positions=[p], with_votes=True, multi_probe=multi_probe)
        comparisons += eligible
        informative = informative or len(slots) < eligible
        if len(slots) == 0:
            continue
        owners = index.slots.owner[slots]
        lists[p] = (slots, owners)
        share = votes / max(float(votes.max()), 1e-9)
        for o, v in zip(owners.tolist(), share.tolist()):
            fused[o] = fused.get(o, 0.0) + v
    if not fused:
        return {}, comparisons
    most = max(len(s) for s, _ in lists.values())
    n_rec = records or max(index.params.min_shortlist // 10,
                           math.ceil(index.params.record_penetration * comparisons / max(1, len(probes))))
    # a record cut needs ranked votes: when every eligible finger was kept, all records are re-scored
    cut = informative and len(fused) > n_rec and most > n_rec
    keep = sorted(fused, key=fused.get, reverse=True)[:n_rec] if cut else list(fused)
    keep = np.array(keep, np.int64)
    out: dict[int, dict[int, Hit]] = {}
    for p, (slots, owners) in lists.items():
        sel = slots[np.isin(owners, keep)]
        for h in index.rescore(probes[p], sel, top=top):
            owner = int(index.slots.owner[h.slot])
            if p not in out.setdefault(owner, {}) or h.score > out[owner][p].score:
                out[owner][p] = h
    return out, comparisons
