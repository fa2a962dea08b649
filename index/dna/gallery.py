"""The store-backed DNA gallery: enrolment, deletion and search over :class:`DnaIndex`.

The store (``records`` + ``dna_profiles``) is the truth. At open the index
is loaded from its derived file when that file carries the store's current
``dna`` generation, and rebuilt from one store snapshot otherwise. A bulk
import is one transaction: every profile is validated first, and a bad
profile or a duplicate specimen id stores nothing. After a commit the
in-memory index is updated, and the derived file is saved again only when no
other writer touched the store in between (else the next open rebuilds).
"""
from __future__ import annotations

import logging
import threading

import numpy as np

from biomatch.extractors.dna.params import ProfileRules, SearchParams
from biomatch.extractors.dna.profile import PROFILE_VERSION, StrProfile
from biomatch.index.derived import load_derived, save_derived

from .index import DnaIndex
from .persist import index_from_bytes, index_to_bytes

__all__ = ["DnaGallery", "DERIVED_NAME"]

DERIVED_NAME = "dna.idx"
_log = logging.getLogger(__name__)


class DnaGallery:
    """Searchable DNA profiles kept in a :class:`~biomatch.index.store.Store`.

    Parameters
    ----------
    store : Store
    params : SearchParams, optional

    Notes
    -----
    Index ids are ``dna_profiles.id``. The gallery also keeps, per profile,
    its record id and the record's ``restricted`` flag (searchable by its
    owner agency only).
    """

    def __init__(self, store, params: SearchParams | None = None):
        self.store = store
        self.params = params or SearchParams()
        self.index = DnaIndex(self.params)
        self.record_of: dict[int, int] = {}
        self.restricted: set[int] = set()
        self.owner: dict[int, str] = {}
        self.generation = -1
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- loading
    @classmethod
    def open(cls, store, params: SearchParams | None = None) -> "DnaGallery":
        """Load the derived index if it is current, else rebuild it from the store and save it."""
        gallery = cls(store, params)
        gallery.load()
        return gallery

    @property
    def derived_path(self):
        return self.store.derived_dir / DERIVED_NAME

    def load(self) -> None:
        with self._lock:
            payload = load_derived(self.derived_path, self.store.generation("dna"))
            if payload is not None:
                try:
                    index, extra = index_from_bytes(payload, self.params)
                    self._adopt(index, extra, self.store.generation("dna"))
                    return
                except ValueError as exc:
                    _log.warning("DNA index file unusable (%s); rebuilding", exc)
            self.rebuild()

    def _adopt(self, index, extra, generation) -> None:
        self.index = index
        ids, records, restricted = extra["profile_ids"], extra["record_ids"], extra["restricted"]
        self.record_of = dict(zip(ids.tolist(), records.tolist()))
        self.restricted = set(ids[restricted.astype(bool)].tolist())
        self.owner = {}
        for shard in index.shards:
            for i, a in zip(shard.ids.tolist(), shard.agencies.tolist()):
                self.owner[i] = index.agency_names[a] if index.agency_names else ""
        self.generation = generation

    def rebuild(self) -> None:
        """Rebuild the index from one store snapshot and save the derived file."""
        with self._lock:
            index = DnaIndex(self.params)
            records, restricted, ids = {}, set(), []
            with self.store.template_snapshot("dna") as (generation, batches):
                for rows in batches:
                    profiles = [StrProfile.from_bytes(r["data"]) for r in rows]
                    index.add([r["row_id"] for r in rows], profiles)
                    for r in rows:
                        records[r["row_id"]] = r["record_id"]
                        ids.append(r["row_id"])
                        if r["restricted"]:
                            restricted.add(r["row_id"])
            arr = np.array(ids, np.int64)
            extra = {"profile_ids": arr, "record_ids": np.array([records[i] for i in ids], np.int64),
                     "restricted": np.array([i in restricted for i in ids], bool)}
            self._adopt(index, extra, generation)
            self._save()

    def _save(self) -> None:
        ids = np.array(sorted(self.record_of), np.int64)
        extra = {"profile_ids": ids, "record_ids": np.array([self.record_of[i] for i in ids], np.int64),
                 "restricted": np.array([i in self.restricted for i in ids], bool)}
        save_derived(self.derived_path, self.generation, index_to_bytes(self.index, extra))

    # ------------------------------------------------------------------ writes
    def enrol(self, profiles, *, agency: str = "", restricted: bool = False,
              rules: ProfileRules | None = None) -> list[int]:
        """Validate and store profiles in one transaction; return their profile ids.

        Parameters
        ----------
        profiles : sequence of StrProfile
        agency : str
            Owner agency for profiles that name none.
        restricted : bool
            Searchable by the owner agency only.

        Raises
        ------
        ProfileError, DuplicateRefError, ValueError
            Nothing is stored.
        """
        profiles = [p if p.agency or not agency else StrProfile(p.specimen_id, p.loci, p.category, agency, p.mixture,
                                                                 p.tri_allelic) for p in profiles]
        if not profiles:
            raise ValueError("no profiles to enrol")
        for p in profiles:
            p.validate(rules)
            if not p.agency:
                raise ValueError(f"specimen {p.specimen_id!r}: no owner agency (give one)")
        entries = [(p.specimen_id, p.agency, bool(restricted),
                    [(p.specimen_id, p.category.slug, p.to_bytes(), PROFILE_VERSION)]) for p in profiles]
        with self._lock:
            with self.store.transaction():
                before = self.store.generation("dna")
                record_ids = self.store.enrol_many("dna", entries)
                profile_ids = [self.store.get_dna_profiles(r)[0].id for r in record_ids]
            self._after_write(before, lambda: self._add(profile_ids, record_ids, profiles, restricted))
        return profile_ids

    def _add(self, profile_ids, record_ids, profiles, restricted) -> None:
        self.index.add(profile_ids, profiles)
        for pid, rid, p in zip(profile_ids, record_ids, profiles):
            self.record_of[pid] = rid
            self.owner[pid] = p.agency
            if restricted:
                self.restricted.add(pid)

    def _after_write(self, before: int, apply) -> None:
        if before == self.generation:
            apply()
            self.generation = before + 1
            self._save()
        else:  # another writer changed the store since we loaded: rebuild from it
            self.rebuild()

    def delete_record(self, record_id: int) -> int:
        """Delete a DNA record and its profiles (store first, then the index); returns profiles removed."""
        record = self.store.get_record(record_id)
        if record.modality != "dna":
            raise ValueError(f"record {record_id} is a {record.modality} record, not a dna record")
        with self._lock:
            with self.store.transaction():
                before = self.store.generation("dna")
                pids = [p.id for p in self.store.get_dna_profiles(record_id)]
                self.store.delete_record(record_id)
            self._after_write(before, lambda: self._remove(pids))
        return len(pids)

    def set_restricted(self, record_id: int, restricted: bool) -> None:
        """Change a DNA record's ``restricted`` flag in the store, then in this index."""
        record = self.store.get_record(record_id)
        if record.modality != "dna":
            raise ValueError(f"record {record_id} is a {record.modality} record, not a dna record")
        with self._lock:
            with self.store.transaction():
                before = self.store.generation("dna")
                pids = [p.id for p in self.store.get_dna_profiles(record_id)]
                self.store.set_restricted(record_id, restricted)
            change = self.restricted.update if restricted else self.restricted.difference_update
            self._after_write(before, lambda: change(pids))

    def _remove(self, pids) -> None:
        self.index.remove(pids)
        for pid in pids:
            self.record_of.pop(pid, None)
            self.restricted.discard(pid)
            self.owner.pop(pid, None)

    # ------------------------------------------------------------------ reads
    def visible(self, profile_id: int, requester_agency: str | None) -> bool:
        """Restricted profiles are visible to their owner agency only (None: no restriction, local use)."""
        return (requester_agency is None or profile_id not in self.restricted
                or self.owner.get(profile_id) == requester_agency)

    def profile(self, profile_id: int) -> tuple[int, StrProfile]:
        """(record id, stored profile) of an index id."""
        record_id = self.record_of.get(profile_id)
        if record_id is None:
            raise LookupError(f"no DNA profile with id {profile_id}")
        for row in self.store.get_dna_profiles(record_id):
            if row.id == profile_id:
                return record_id, StrProfile.from_bytes(row.profile)
        raise LookupError(f"no DNA profile with id {profile_id}")

    def __len__(self) -> int:
        return len(self.index)
