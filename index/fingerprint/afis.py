"""The AFIS: tenprint records and unsolved marks in the store, two 1:N indexes, the four search modes.

* TP->TP :meth:`Afis.search_tenprint` - finger positions known, finger scores summed per record.
* LT->TP :meth:`Afis.search_mark` - a mark against every finger (optional position hint), any rotation.
* TP->ULF :meth:`Afis.reverse_search` - a tenprint against the unsolved marks; run on every enrolment.
* LT->LT :meth:`Afis.link_marks` - a mark against the other unsolved marks.

A hit at or above the lights-out threshold (set on FPIR at the gallery size,
:mod:`.decision`) on an item of another agency notifies that agency.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from biomatch.extractors.fingerprint.template import FingerprintTemplate
from biomatch.matcher.fingerprint import match, prepare
from biomatch.matcher.fingerprint.calibration import default_calibration
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS, DEFAULT_MATCHER_PARAMS
from biomatch.extractors.fingerprint.template import TEMPLATE_VERSION

from .decision import DEFAULT_FPIR, mark_calibration, search_threshold
from .gallery import FingerIndex, _with_params
from .marks import check_minutiae
from .persist import load_index, save_index
from .webhooks import WebhookSender

__all__ = ["Afis", "Candidate", "FingerScore", "POSITIONS"]

log = logging.getLogger(__name__)
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


def _check_position(position) -> int:
    p = int(position)
    if p not in POSITIONS:
        raise ValueError(f"unknown finger position {position!r}: ANSI/NIST-ITL positions are 1..10")
    return p


class Afis:
    """Fingerprint records and marks of one store with their indexes. Use :meth:`open`; thread-safe."""

    def __init__(self, store, fingers: FingerIndex, marks: FingerIndex, generations: dict):
        self.store, self.fingers, self.marks = store, fingers, marks
        self._gen = dict(generations)
        self._lock = threading.RLock()
        self.calibration = default_calibration()  # prints, default rotation bound
        self.mark_calibration = mark_calibration()  # marks or mark files: partial, any rotation
        self.webhooks = WebhookSender()
        self.deliveries: list = []  # futures of webhook deliveries (for tests and shutdown)

    # ------------------------------------------------------------------ set-up
    @classmethod
    def open(cls, store) -> "Afis":
        """Load both derived index files when current, else rebuild them from the store and save them."""
        out, gens = {}, {}
        for kind, name in (("fingerprint", "fingers"), ("mark", "marks")):
            path = store.derived_dir / f"afis-{name}.idx"
            gen = store.generation(kind)
            index = load_index(path, gen)
            if index is None:
                index, gen = cls._rebuild(store, kind)
                save_index(index, path, gen)
            out[name], gens[kind] = index, gen
        return cls(store, out["fingers"], out["marks"], gens)

    @staticmethod
    def _rebuild(store, kind: str) -> tuple[FingerIndex, int]:
        index = FingerIndex()
        with store.template_snapshot(kind, batch=5000) as (generation, batches):
            for rows in batches:
                for r in rows:
                    t = FingerprintTemplate.from_bytes(r["data"])
                    owner = r["record_id"] if kind == "fingerprint" else r["row_id"]
                    index.add(r["row_id"], owner, r.get("position", 0) or 0, prepare(t))
        return index, generation

    def save(self) -> None:
        """Write the index files whose store generation has not moved on since they were synced."""
        with self._lock:
            for kind, name, index in (("fingerprint", "fingers", self.fingers), ("mark", "marks", self.marks)):
                if self.store.generation(kind) == self._gen[kind]:
                    save_index(index, self.store.derived_dir / f"afis-{name}.idx", self._gen[kind])

    def close(self) -> None:
        self.save()
        self.webhooks.close()

    # ------------------------------------------------------------------ writes
    def enrol_tenprint(self, reference: str, agency: str, fingers: dict, *, impression: str = "rolled",
                       restricted: bool = False, image_sha256: dict | None = None, reverse_search: bool = True):
        """Store a tenprint record and index it; returns ``(record_id, reverse-search hits)``.

        ``fingers`` maps ANSI/NIST positions 1..10 to templates. Nothing is
        stored when any input is bad. The reverse search against unsolved
        marks runs after the commit and notifies the marks' owners of hits.
        """
        if not fingers:
            raise ValueError("a tenprint needs at least one finger")
        checked = {}
        for pos, t in fingers.items():
            p = _check_position(pos)
            if not isinstance(t, FingerprintTemplate):
                raise ValueError(f"finger {p}: expected a FingerprintTemplate")
            checked[p] = t.validate()
        prepared = {p: prepare(t) for p, t in checked.items()}
        sha = image_sha256 or {}
        with self._lock:
            with self.store.transaction():
                rid = self.store.add_record("fingerprint", reference, agency, restricted=restricted)
                ids = self.store.add_fingerprints(rid, [(p, impression, t.to_bytes(), TEMPLATE_VERSION, sha.get(p))
                                                        for p, t in checked.items()])
            for (p, pf), fid in zip(prepared.items(), ids):
                self.fingers.add(fid, rid, p, pf)
            self._gen["fingerprint"] = self.store.generation("fingerprint")
        hits = self.reverse_search(prepared, agency=agency, subject=("record", rid, reference)) if reverse_search else []
        return rid, hits

    def import_transaction(self, data: bytes, agency: str, *, reference: str | None = None,
                           restricted: bool = False):
        """Enrol the tenprint of an ANSI/NIST-ITL transaction (reference: ``reference`` or its TCN).

        Every finger is read and extracted before anything is stored.
        """
        from .ansinist import read_transaction, tenprint_templates

        tx = read_transaction(data)
        ref = reference or tx.tcn
        if not ref:
            raise ValueError("the transaction has no TCN (1.009); give a reference")
        impression = "rolled" if any(f.impression == "rolled" for f in tx.fingers) else "plain" if tx.fingers else "unknown"
        return self.enrol_tenprint(ref, agency, tenprint_templates(tx), impression=impression, restricted=restricted)

    def delete_record(self, record_id: int) -> int:
        """Delete a tenprint record and its fingers from the store and the index."""
        with self._lock:
            rec = self.store.get_record(record_id)
            if rec.modality != "fingerprint":
                raise ValueError(f"record {record_id} is a {rec.modality} record, not a tenprint")
            ids = self.store.template_ids("fingerprint", [record_id]).get(record_id, [])
            self.store.delete_record(record_id)
            n = self.fingers.remove(ids)
            self._gen["fingerprint"] = self.store.generation("fingerprint")
        return n

    def add_mark(self, case_ref: str, agency: str, template: FingerprintTemplate, *, image: bytes | None = None,
                 link: bool = True):
        """Register an unsolved mark; returns ``(mark_id, candidates among the other unsolved marks)``."""
        check_minutiae(template)
        pm = prepare(template)
        with self._lock:
            mid = self.store.add_mark(case_ref, agency, template.to_bytes(), TEMPLATE_VERSION, image_bytes=image)
            self.marks.add(mid, mid, 0, pm)
            self._gen["mark"] = self.store.generation("mark")
        return mid, (self.link_marks(template, exclude=mid) if link else [])

    def update_mark_status(self, mark_id: int, status: str) -> None:
        """Set a mark's status; only unsolved marks stay in the reverse-search file."""
        with self._lock:
            self.store.update_mark_status(mark_id, status)
            if status == "unsolved":
                m = self.store.get_mark(mark_id)
                self.marks.add(mark_id, mark_id, 0, prepare(FingerprintTemplate.from_bytes(m.template)))
            else:
                self.marks.remove([mark_id])
            self._gen["mark"] = self.store.generation("mark")

    def delete_mark(self, mark_id: int) -> None:
        with self._lock:
            self.store.delete_mark(mark_id)
            self.marks.remove([mark_id])
            self._gen["mark"] = self.store.generation("mark")

    # ------------------------------------------------------------------ search
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

        Each probe finger is searched among gallery fingers of the same
        position; a record's score is the sum of its finger scores (a record
        missing a finger scores 0 there). The threshold applies to the best
        finger, at FPIR ``fpir`` over all finger comparisons an exhaustive
        search would make.
        """
        _check_top(top)
        probes = {_check_position(p): (t if not isinstance(t, FingerprintTemplate) else prepare(t.validate()))
                  for p, t in fingers.items()}
        if not probes:
            raise ValueError("a tenprint search needs at least one finger")
        per_record: dict[int, dict[int, tuple[int, float]]] = {}
        comparisons = 0
        for p, pf in probes.items():
            hits, eligible = self.fingers.search(pf, positions=[p], top=max(3 * top, 50))
            comparisons += eligible
            for h in hits:
                rid = self.fingers.owner(h.row_id) if h.row_id in self.fingers else None
                if rid is not None:
                    best = per_record.setdefault(rid, {}).get(p)
                    if best is None or h.score > best[1]:
                        per_record[rid][p] = (h.row_id, h.score)
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
        pm = prepare(check_minutiae(mark)) if isinstance(mark, FingerprintTemplate) else mark
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
        r = match(a.validate(), b.validate(), params)
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
