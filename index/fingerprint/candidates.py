"""Candidate lists of AFIS searches and ANSI/NIST finger positions."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Candidate", "FingerScore", "POSITIONS", "check_position"]

#: ANSI/NIST-ITL finger positions: 1-5 right thumb..little, 6-10 left thumb..little.
POSITIONS = {1: "right thumb", 2: "right index", 3: "right middle", 4: "right ring", 5: "right little",
             6: "left thumb", 7: "left index", 8: "left middle", 9: "left ring", 10: "left little"}


@dataclass(frozen=True)
class FingerScore:
    """One finger comparison of a candidate: position, score, strength and paired minutiae rows."""

    position: int
    row_id: int
    score: float
    fmr: float
    fmr_is_bound: bool
    strength: float
    pairs: list = field(default_factory=list)  # [probe row, candidate row]


@dataclass(frozen=True)
class Candidate:
    """One ranked candidate: a record (print searches) or a mark (reverse and mark-to-mark searches)."""

    rank: int
    kind: str  # "record" or "mark"
    id: int  # record id or mark id
    reference: str  # external reference or case reference
    owner_agency: str
    position: int  # best finger's position (0: unknown, marks)
    score: float  # fused score (sum over fingers for TP->TP), else the finger score
    strength: float  # -log10 FMR of the best finger
    fmr: float
    fmr_is_bound: bool
    hit: bool  # best finger at or above the lights-out threshold
    fingers: list[FingerScore]


def check_position(position) -> int:
    p = int(position)
    if p not in POSITIONS:
        raise ValueError(f"unknown finger position {position!r}: ANSI/NIST-ITL positions are 1..10")
    return p
