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

from biomatch.extractors.fingerprint.params import check_minutiae_detector
from biomatch.extractors.fingerprint.template import TEMPLATE_VERSION, FingerprintTemplate, MinutiaeSource
from biomatch.matcher.fingerprint import PreparedFingerprint, prepare
from biomatch.matcher.fingerprint.calibration import default_calibration

from .candidates import POSITIONS, Candidate, FingerScore, check_position as _check_position
from .decision import mark_calibration
from .gallery import FingerIndex
from .marks import check_minutiae
from .persist import load_index, save_index
from .search import SearchMixin
from .webhooks import WebhookSender

__all__ = ["Afis", "Candidate", "FingerScore", "POSITIONS"]

log = logging.getLogger(__name__)


class Afis(SearchMixin):
    """Fingerprint records and marks of one store with their indexes. Use :meth:`open`; thread-safe."""

    def __init__(self, store, fingers: FingerIndex, marks: FingerIndex, generations: dict,
                 source: int | None = None, detector: str = "ridges"):
        check_minutiae_detector(detector)
        self.store, self.fingers, self.marks = store, fingers, marks
        # the minutiae detector of every template stored (None while the store holds none): scores
        # across detectors are unreliable, so one database keeps to one
        self._source = source
        self._default_detector = detector
        self._gen = dict(generations)
        self._lock = threading.RLock()
        self.calibration = default_calibration()  # prints, default rotation bound
        self.mark_calibration = mark_calibration()  # marks or mark files: partial, any rotation
        self.webhooks = WebhookSender()
        self.deliveries: list = []  # futures of webhook deliveries (for tests and shutdown)

    # ------------------------------------------------------------------ set-up
    @classmethod
    def open(cls, store, *, detector: str = "ridges") -> "Afis":
        """Load both derived index files when current, else rebuild them from the store and save them.

        ``detector`` ("ridges" or "leader") is the minutiae detector of a new,
        empty store; a store that holds templates keeps the detector they were
        extracted with (:attr:`detector`).
        """
        out, gens = {}, {}
        for kind, name in (("fingerprint", "fingers"), ("mark", "marks")):
            path = store.derived_dir / f"afis-{name}.idx"
            gen = store.generation(kind)
            index = load_index(path, gen)
            if index is None:
                index, gen = cls._rebuild(store, kind)
                save_index(index, path, gen)
            out[name], gens[kind] = index, gen
        return cls(store, out["fingers"], out["marks"], gens, _stored_source(store), detector)

    # --------------------------------------------------------- minutiae source
    @property
    def detector(self) -> str:
        """The minutiae detector ("ridges" or "leader") to extract this database's prints and marks with."""
        if self._source is None:
            return self._default_detector
        return MinutiaeSource(self._source).name.lower()

    def _learn_source(self, templates) -> None:
        if self._source is None:
            found = [t.minutiae_source for t in templates if t.minutiae_source != MinutiaeSource.IMPORTED]
            self._source = found[0] if found else None

    def check_source(self, template, what: str = "the probe") -> None:
        """Refuse a template (or prepared template) whose minutiae come from another detector than the
        database's: such scores are unreliable (see docs/fingerprint.md). Imported minutiae (an
        examiner's, another system's) are accepted by any database."""
        t = template.template if isinstance(template, PreparedFingerprint) else template
        want = self._source if self._source is not None else MinutiaeSource[self._default_detector.upper()]
        if t.minutiae_source not in (want, MinutiaeSource.IMPORTED):
            raise ValueError(f"{what} has minutiae from the {MinutiaeSource(t.minutiae_source).name.lower()} "
                             f"detector, but this database's are from the {MinutiaeSource(want).name.lower()} "
                             f"detector: extract it with --minutiae {MinutiaeSource(want).name.lower()}")

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

    def _advance(self, kind: str) -> None:
        """After one own write of ``kind``: keep the index current only if no other writer came between."""
        g = self.store.generation(kind)
        self._gen[kind] = g if g == self._gen[kind] + 1 else -1  # -1: rebuild at the next search

    def sync(self) -> None:
        """Rebuild an index whose store generation moved without this object (another process wrote).

        Called at the start of every search, so enrolments made by the CLI or
        another server show in a running service. Costs one small query per kind.
        """
        with self._lock:
            for kind, name in (("fingerprint", "fingers"), ("mark", "marks")):
                if self.store.generation(kind) != self._gen[kind]:
                    log.info("%s index is behind the store; rebuilding", kind)
                    index, gen = self._rebuild(self.store, kind)
                    setattr(self, name, index)
                    self._gen[kind] = gen

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
            self.check_source(t, f"finger {p}")
        prepared = {p: prepare(t) for p, t in checked.items()}
        sha = image_sha256 or {}
        with self._lock:
            with self.store.transaction():
                rid = self.store.add_record("fingerprint", reference, agency, restricted=restricted)
                ids = self.store.add_fingerprints(rid, [(p, impression, t.to_bytes(), TEMPLATE_VERSION, sha.get(p))
                                                        for p, t in checked.items()])
            for (p, pf), fid in zip(prepared.items(), ids):
                self.fingers.add(fid, rid, p, pf)
            self._advance("fingerprint")
            self._learn_source(checked.values())
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
        return self.enrol_tenprint(ref, agency, tenprint_templates(tx, self.detector), impression=impression,
                                   restricted=restricted)

    def delete_record(self, record_id: int) -> int:
        """Delete a tenprint record and its fingers from the store and the index."""
        with self._lock:
            rec = self.store.get_record(record_id)
            if rec.modality != "fingerprint":
                raise ValueError(f"record {record_id} is a {rec.modality} record, not a tenprint")
            ids = self.store.template_ids("fingerprint", [record_id]).get(record_id, [])
            self.store.delete_record(record_id)
            n = self.fingers.remove(ids)
            self._advance("fingerprint")
        return n

    def add_mark(self, case_ref: str, agency: str, template: FingerprintTemplate, *, image: bytes | None = None,
                 link: bool = True):
        """Register an unsolved mark; returns ``(mark_id, candidates among the other unsolved marks)``."""
        check_minutiae(template)
        self.check_source(template, "the mark")
        pm = prepare(template)
        with self._lock:
            mid = self.store.add_mark(case_ref, agency, template.to_bytes(), TEMPLATE_VERSION, image_bytes=image)
            self.marks.add(mid, mid, 0, pm)
            self._advance("mark")
            self._learn_source([template])
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
            self._advance("mark")

    def delete_mark(self, mark_id: int) -> None:
        with self._lock:
            self.store.delete_mark(mark_id)
            self.marks.remove([mark_id])
            self._advance("mark")

    # ------------------------------------------------------------------ search


def _stored_source(store) -> int | None:
    """The detector of the store's extracted templates (prints first, then marks); None when it holds
    none (imported minutiae say nothing about it). Stops at the first extracted template."""
    for kind in ("fingerprint", "mark"):
        with store.template_snapshot(kind, batch=256) as (_generation, batches):
            for rows in batches:
                for r in rows:
                    source = FingerprintTemplate.from_bytes(r["data"]).minutiae_source
                    if source != MinutiaeSource.IMPORTED:
                        return source
    return None
