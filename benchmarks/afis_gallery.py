"""Distractor fingers for AFIS scale runs, made from real templates and streamed.

A distractor must look like *another* finger, not like another impression
of its source: copies of one source that match each other as mates would
fill any shortlist with near-duplicates (the first scale gallery did: two
copies of one source scored 0.34, a genuine pair's median is 0.29). Each
distractor therefore takes a real template and moves every minutia by a
smooth random displacement field (3 plane waves, amplitude 8-16 px, periods
70-140 px, so neighbours within a cylinder's radius move relative to each
other) and turns its direction by a smooth field (up to 25 deg); 10-25% of
the minutiae are dropped and 5-15% spurious ones added. Measured on FVC
sources: two distractors of one source score a median 0.043 against each
other and 0.076 against the source, against an impostor median of 0.027
(max 0.056) and a genuine median of 0.29. The source's orientation field is
kept (so a distractor costs the memory a real enrolment does), shifted by 2-4
blocks against the minutiae so that its ridge-flow cue reads as an impostor's.
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np

from biomatch.extractors.fingerprint.template import FingerprintTemplate

__all__ = ["distractor", "distractors"]


def _wave_field(rng: np.random.Generator, amp: float, periods: tuple[float, float], x, y):
    dx, dy = np.zeros_like(x), np.zeros_like(y)
    for _ in range(3):
        per, th, ph = rng.uniform(*periods), rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
        s = np.sin((x * math.cos(th) + y * math.sin(th)) / per * 2 * math.pi + ph)
        dx += rng.uniform(-amp, amp) * s
        dy += rng.uniform(-amp, amp) * s
    return dx, dy


def distractor(t: FingerprintTemplate, rng: np.random.Generator) -> FingerprintTemplate:
    """A new finger-like template from ``t`` (see the module notes)."""
    n = len(t)
    keep = rng.random(n) >= rng.uniform(0.10, 0.25)
    x, y, a = t.x[keep].astype(np.float64), t.y[keep].astype(np.float64), t.angle[keep].astype(np.float64)
    add = int(round(n * rng.uniform(0.05, 0.15)))
    if add and len(x):
        x = np.concatenate([x, rng.uniform(x.min(), x.max(), add)])
        y = np.concatenate([y, rng.uniform(y.min(), y.max(), add)])
        a = np.concatenate([a, rng.uniform(0, 2 * math.pi, add)])
    dx, dy = _wave_field(rng, rng.uniform(8, 16), (70, 140), x, y)
    da, _ = _wave_field(rng, math.radians(25), (70, 140), x, y)
    x = np.clip(x + dx, 0, t.width - 1)
    y = np.clip(y + dy, 0, t.height - 1)
    m = len(x)
    field = t.orientation
    if field is not None:  # shifted 2-4 blocks against the minutiae: same bytes, an impostor's ridge-flow cue
        field = np.roll(field, tuple(int(rng.choice([-1, 1]) * rng.integers(2, 5)) for _ in range(2)), axis=(0, 1))
    return FingerprintTemplate(x=x, y=y, angle=np.mod(a + da, 2 * math.pi), kind=np.ones(m, np.uint8),
                               quality=np.full(m, 50, np.uint8), width=t.width, height=t.height, dpi=500,
                               orientation=field, orientation_block_px=t.orientation_block_px)


def distractors(sources: Sequence[FingerprintTemplate], n: int, seed: int) -> Iterator[FingerprintTemplate]:
    """``n`` distractors, one at a time (bounded memory), from ``sources`` in turn."""
    rng = np.random.default_rng(seed)
    for j in range(n):
        yield distractor(sources[j % len(sources)], rng)
