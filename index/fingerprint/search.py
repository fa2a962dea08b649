"""The four AFIS search modes and hit notifications, as a mixin of :class:`~.afis.Afis`.

* TP->TP :meth:`SearchMixin.search_tenprint` - finger positions known, finger scores summed per record.
* LT->TP :meth:`SearchMixin.search_mark` - a mark against every finger (optional position hint), any rotation.
* TP->ULF :meth:`SearchMixin.reverse_search` - a tenprint against the unsolved marks.
* LT->LT :meth:`SearchMixin.link_marks` - a mark against the other unsolved marks.
"""
from __future__ import annotations

import numpy as np

from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource
from biomatch.matcher.fingerprint import match, prepare
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS, DEFAULT_MATCHER_PARAMS

from .candidates import Candidate, FingerScore, check_position as _check_position
from .decision import DEFAULT_FPIR, search_threshold
from .gallery import _with_params
from .marks import check_minutiae
from .tenprint import search_records

__all__ = ["SearchMixin"]


class SearchMixin:
    """Searches over ``self.fingers``/``self.marks`` with ``self.calibration``/``self.mark_calibration``."""

    def threshold(self, comparisons: int, fpir: float = DEFAULT_FPIR, *, marks: bool = False) -> tuple[float, bool]:
        """Lights-out score threshold at ``fpir`` for this many comparisons (see :mod:`.decision`).

        ``marks``: for comparisons involving a mark (read through the mark calibration).
        """
        return search_threshold(comparisons, fpir, self.mark_calibration if marks else self.calibration)

    def _finger(self, position, row_id, score, probe, candidate, params) -> FingerScore:
        cal = self.mark_calibration if params.max_direction_diff_rad != DEFAULT_MATCHER_PARAMS.max_direction_diff_rad \
            else self.calibration
        st = cal.strength(score)
        pairs = match(_with_params(probe, params), _with_params(candidate, params), params).pairs.tolist()
        return FingerScore(int(position), int(row_id), float(score), st.fmr, st.fmr_is_bound, st.strength, pairs)

    def search_tenprint(self, fingers: dict, *, top: int = 20, fpir: float = DEFAULT_FPIR,
                        requester: str | None = None) -> tuple[list[Candidate], float]:
        """TP->TP: best ``top`` records and the lights-out threshold used.

        Each probe finger votes among gallery fingers of the same position;
        the votes are fused per record and the fingers of the best records
        are re-scored (:func:`.tenprint.search_records`). A record's score is
        the sum of its finger scores (a record missing a finger scores 0
        there). The threshold applies to the best finger, at FPIR ``fpir``
        over all finger comparisons an exhaustive search would make.
        """
        _check_top(top)
        self.sync()
        probes = {_check_position(p): (t if not isinstance(t, FingerprintTemplate) else prepare(t.validate()))
                  for p, t in fingers.items()}
        if not probes:
            raise ValueError("a tenprint search needs at least one finger")
        for p, t in probes.items():
            self.check_source(t, f"probe finger {p}")
        found, comparisons = search_records(self.fingers, probes, top=max(3 * top, 50))
        per_record = {rid: {p: (h.row_id, h.score) for p, h in fs.items()} for rid, fs in found.items()}
        thr, _ = self.threshold(comparisons, fpir)
        ranked = sorted(per_record.items(), key=lambda kv: -sum(s for _, s in kv[1].values()))
        out = []
        for rid, fs in ranked:
            rec = self._record(rid)
            if rec is None or (rec.restricted and requester is not None and rec.owner_agency != requester):
                continue
            scores = [self._finger(p, row, s, probes[p], self.fingers.prepared(row), DEFAULT_MATCHER_PARAMS)
                      for p, (row, s) in sorted(fs.items(), key=lambda kv: -kv[1][1])]
            best = scores[0]
            out.append(Candidate(len(out) + 1, "record", rid, rec.external_ref, rec.owner_agency, best.position,
                                 float(sum(f.score for f in scores)), best.strength, best.fmr, best.fmr_is_bound,
                                 best.score >= thr, scores))
            if len(out) == top:
                break
        return out, thr

    def search_mark(self, mark, *, top: int = 20, position_hint=None, fpir: float = DEFAULT_FPIR,
                    requester: str | None = None) -> tuple[list[Candidate], float]:
        """LT->TP: a mark against every finger (only ``position_hint`` positions when given), any rotation."""
        _check_top(top)
        self.sync()
        pm = prepare(check_minutiae(mark)) if isinstance(mark, FingerprintTemplate) else mark
        self.check_source(pm, "the mark")
        positions = None if position_hint is None else [_check_position(p) for p in np.atleast_1d(position_hint)]
        hits, eligible = self.fingers.search(pm, positions=positions, matcher_params=ANY_ROTATION_PARAMS,
                                             top=max(3 * top, 50))
        thr, _ = self.threshold(eligible, fpir, marks=True)
        return self._finger_candidates(hits, pm, top, thr, requester), thr

    def _finger_candidates(self, hits, probe, top, thr, requester) -> list[Candidate]:
        out, seen = [], set()
        for h in hits:
            if h.row_id not in self.fingers:
                continue
            rid = self.fingers.owner(h.row_id)
            rec = self._record(rid)
            if rid in seen or rec is None or (rec.restricted and requester is not None and rec.owner_agency != requester):
                continue
            seen.add(rid)
            f = self._finger(self.fingers.position(h.row_id), h.row_id, h.score, probe,
                             self.fingers.prepared(h.row_id), ANY_ROTATION_PARAMS)
            out.append(Candidate(len(out) + 1, "record", rid, rec.external_ref, rec.owner_agency, f.position, f.score,
                                 f.strength, f.fmr, f.fmr_is_bound, f.score >= thr, [f]))
            if len(out) == top:
                break
        return out

    def _mark_candidates(self, probe_fingers: dict, top: int, fpir: float, exclude=None) -> tuple[list[Candidate], float]:
        self.sync()
        best: dict[int, tuple[int, float]] = {}
        comparisons = 0
        for p, pf in probe_fingers.items():
            hits, eligible = self.marks.search(pf, matcher_params=ANY_ROTATION_PARAMS, top=max(2 * top, 50))
            comparisons += eligible
            for h in hits:
                if h.row_id != exclude and (h.row_id not in best or h.score > best[h.row_id][1]):
                    best[h.row_id] = (p, h.score)
        thr, _ = self.threshold(comparisons, fpir, marks=True)
        out = []
        for mid, (p, s) in sorted(best.items(), key=lambda kv: -kv[1][1])[:top]:
            try:
                m = self.store.get_mark(mid)
            except LookupError:
                continue
            f = self._finger(p, mid, s, probe_fingers[p], self.marks.prepared(mid), ANY_ROTATION_PARAMS)
            out.append(Candidate(len(out) + 1, "mark", mid, m.case_ref, m.owner_agency, p, s, f.strength, f.fmr,
                                 f.fmr_is_bound, s >= thr, [f]))
        return out, thr

    def reverse_search(self, fingers: dict, *, agency: str, subject=None, top: int = 20,
                       fpir: float = DEFAULT_FPIR) -> list[Candidate]:
        """TP->ULF: tenprint fingers against the unsolved marks; hits on other agencies' marks are notified.

        ``subject`` is ``(kind, id, reference)`` of the searched item, for the notification payload.
        """
        probes = {_check_position(p): (prepare(t.validate()) if isinstance(t, FingerprintTemplate) else t)
                  for p, t in fingers.items()}
        cands, thr = self._mark_candidates(probes, top, fpir)
        for c in cands:
            if c.hit and c.owner_agency != agency:
                self._notify(c, agency, subject, "reverse_search_hit")
        return cands

    def link_marks(self, mark, *, exclude: int | None = None, top: int = 20,
                   fpir: float = DEFAULT_FPIR) -> list[Candidate]:
        """LT->LT: a mark against the unsolved marks (``exclude``: its own id)."""
        pm = prepare(check_minutiae(mark)) if isinstance(mark, FingerprintTemplate) else mark
        self.check_source(pm, "the mark")
        return self._mark_candidates({0: pm}, top, fpir, exclude=exclude)[0]

    def notify_hits(self, candidates, *, agency: str, subject, kind: str = "search_hit") -> int:
        """Notify the owners of candidates that are hits on another agency's item; returns how many."""
        n = 0
        for c in candidates:
            if c.hit and c.owner_agency != agency:
                self._notify(c, agency, subject, kind)
                n += 1
        return n

    def _notify(self, c: Candidate, agency: str, subject, kind: str) -> None:
        payload = {"by_agency": agency, "score": c.score, "strength": c.strength, "position": c.position,
                   "subject": None if subject is None else {"kind": subject[0], "id": subject[1],
                                                            "reference": subject[2]},
                   "your_item": {"kind": c.kind, "id": c.id, "reference": c.reference}}
        nid = self.store.add_notification(c.owner_agency, kind, c.kind, c.id, payload)
        url = self.store.get_webhook(c.owner_agency)
        if url:
            self.deliveries = [f for f in self.deliveries if not f.done()]
            self.deliveries.append(self.webhooks.send(url, {"id": nid, "agency": c.owner_agency, "kind": kind,
                                                            "subject_type": c.kind, "subject_id": c.id,
                                                            "payload": payload}))

    def verify(self, a: FingerprintTemplate, b: FingerprintTemplate, *, any_rotation: bool = False) -> dict:
        """1:1 comparison with score, calibrated strength and paired minutiae."""
        params = ANY_ROTATION_PARAMS if any_rotation else DEFAULT_MATCHER_PARAMS
        sources = {a.validate().minutiae_source, b.validate().minutiae_source} - {MinutiaeSource.IMPORTED}
        if len(sources) > 1:
            raise ValueError("the two prints' minutiae come from different detectors; extract both with one")
        r = match(a, b, params)
        st = (self.mark_calibration if any_rotation else self.calibration).strength(r.score)
        return {"score": r.score, "fmr": st.fmr, "fmr_is_bound": st.fmr_is_bound, "strength": st.strength,
                "pairs": r.pairs.tolist()}

    def _record(self, rid: int):
        try:
            return self.store.get_record(rid)
        except LookupError:
            return None



def _check_top(top: int) -> None:
    if not 1 <= int(top) <= 1000:
        raise ValueError(f"top must be in 1..1000, got {top}")
