"""The in-memory DNA index: compact shards of allele codes with ids and provenance.

``DnaIndex`` holds integer record ids (the store's ``dna_profiles.id`` when
store-backed) and answers shortlists; searching lives in :mod:`.search`.
It is rebuilt from the store at start (:func:`biomatch.index.dna.store.load_index`)
and never persisted by itself.
"""
from __future__ import annotations

import numpy as np

from biomatch.extractors.dna.params import SearchParams
from biomatch.extractors.dna.profile import ProfileCategory

from .encoding import NARROW, WIDE, LocusVocabulary, encode_profiles, width_of

__all__ = ["DnaIndex", "Shard", "DELETED"]

#: Category code of a removed profile (tombstone; never matches a filter).
DELETED = 0
#: Largest profile id (ids are stored as uint32: 4 bytes a profile).
MAX_ID = 2**32 - 1


class Shard:
    """Growable parallel arrays of one width: codes (L, n, W), categories, agencies, uint32 ids."""

    def __init__(self, n_loci: int, width: int, capacity: int = 1024):
        self.width = width
        self.n = 0
        self._codes = np.zeros((n_loci, capacity, width), np.uint8)
        self._cats = np.zeros(capacity, np.uint8)
        self._agencies = np.zeros(capacity, np.uint16)
        # Ids are implicit (first id + row) while they arrive consecutive, as
        # generated or freshly enrolled ones do; the first gap materialises them.
        self._first_id: int | None = None
        self._ids: np.ndarray | None = None

    @property
    def codes(self) -> np.ndarray:
        return self._codes[:, :self.n]

    @property
    def cats(self) -> np.ndarray:
        return self._cats[:self.n]

    @property
    def agencies(self) -> np.ndarray:
        return self._agencies[:self.n]

    @property
    def ids(self) -> np.ndarray:
        """(n,) uint32 ids (a new array when they are implicit)."""
        if self._ids is None:
            return np.arange(self._first_id or 0, (self._first_id or 0) + self.n, dtype=np.uint32)
        return self._ids[:self.n]

    def ids_at(self, rows) -> np.ndarray:
        """int64 ids of the given rows."""
        rows = np.asarray(rows, np.int64)
        if self._ids is None:
            return rows + (self._first_id or 0)
        return self._ids[rows].astype(np.int64)

    @property
    def capacity(self) -> int:
        return self._cats.shape[0]

    def kernel_arrays(self):
        """Full-capacity C-contiguous arrays for the kernels (rows ``0:n`` are live).

        Returns ``(codes, pair16, cats, agencies)``; ``pair16`` views a narrow
        shard's two codes per locus as one uint16 (``a | b << 8``) and is a
        dummy for wide shards.
        """
        if self.width == 2:
            pair16 = self._codes.view(np.uint16).reshape(self._codes.shape[0], self._codes.shape[1])
        else:
            pair16 = np.zeros((self._codes.shape[0], 1), np.uint16)
        return self._codes, pair16, self._cats, self._agencies

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` profiles in all (one copy of the arrays)."""
        if capacity <= self.capacity:
            return
        codes = np.zeros((self._codes.shape[0], capacity, self.width), np.uint8)
        codes[:, :self.n] = self.codes
        cats = np.zeros(capacity, np.uint8)
        cats[:self.n] = self.cats
        agencies = np.zeros(capacity, np.uint16)
        agencies[:self.n] = self.agencies
        if self._ids is not None:
            ids = np.zeros(capacity, np.uint32)
            ids[:self.n] = self._ids[:self.n]
            self._ids = ids
        self._codes, self._cats, self._agencies = codes, cats, agencies

    def append(self, ids, codes, cats, agencies) -> None:
        ids = np.asarray(ids, np.int64)
        if ids.size and (ids.min() < 0 or ids.max() > MAX_ID):
            raise ValueError(f"profile ids must be in 0..{MAX_ID}")
        m = len(ids)
        if self.n + m > self.capacity:
            self.reserve(max(self.n + m, 2 * self.capacity))
        s = slice(self.n, self.n + m)
        self._codes[:, s] = codes
        self._cats[s] = cats
        self._agencies[s] = agencies
        self._store_ids(s, ids)
        self.n += m

    def _store_ids(self, s: slice, ids: np.ndarray) -> None:
        if self._ids is None:
            if self.n == 0 and len(ids):
                self._first_id = int(ids[0])
            start = (self._first_id or 0) + s.start
            if len(ids) == 0 or np.array_equal(ids, np.arange(start, start + len(ids))):
                return
            materialised = np.zeros(self.capacity, np.uint32)
            materialised[:s.start] = np.arange(self._first_id or 0, start, dtype=np.uint32)
            self._ids = materialised
        self._ids[s] = ids

    def nbytes(self) -> int:
        """Bytes of the live rows: codes, category, agency, and ids when they are explicit."""
        return self.n * (self._codes.shape[0] * self.width + 1 + 2 + (0 if self._ids is None else 4))


class DnaIndex:
    """Searchable STR profiles in compact form.

    Parameters
    ----------
    params : SearchParams, optional
        The locus panel and search rules (default: CODIS 20).

    Notes
    -----
    Factory string: ``"DNA<n_loci>,u8x2+u8x8"``: per locus two uint8 allele
    codes (narrow shard, 40 bytes a profile on the CODIS 20) plus a wide shard
    of eight codes for tri-allelic profiles and mixtures.
    """

    def __init__(self, params: SearchParams | None = None, capacity: int = 1024):
        self.params = params or SearchParams()
        self.vocab = LocusVocabulary(self.params.loci)
        n_loci = len(self.params.loci)
        self.narrow = Shard(n_loci, NARROW, capacity)
        self.wide = Shard(n_loci, WIDE, 64)
        self.agency_names: list[str] = []
        self._agency_code: dict[str, int] = {}
        self.code_counts = np.zeros((n_loci, 256), np.int64)

    @property
    def factory_string(self) -> str:
        return f"DNA{len(self.params.loci)},u8x{NARROW}+u8x{WIDE}"

    def __len__(self) -> int:
        return int(np.count_nonzero(self.narrow.cats != DELETED) + np.count_nonzero(self.wide.cats != DELETED))

    @property
    def shards(self) -> tuple[Shard, Shard]:
        return self.narrow, self.wide

    def agency_code(self, name: str, *, add: bool = True) -> int:
        """uint16 code of an owner agency (-1 if unknown and ``add`` is false)."""
        code = self._agency_code.get(name)
        if code is None:
            if not add:
                return -1
            if len(self.agency_names) >= 65535:
                raise ValueError("more than 65535 agencies")
            code = self._agency_code[name] = len(self.agency_names)
            self.agency_names.append(name)
        return code

    # ---------------------------------------------------------------- writes
    def add(self, ids, profiles) -> None:
        """Add profiles under integer ids; each goes to the narrow or the wide shard."""
        ids = np.asarray(ids, np.int64).reshape(-1)
        profiles = list(profiles)
        if len(ids) != len(profiles):
            raise ValueError(f"{len(ids)} ids for {len(profiles)} profiles")
        for width, shard in ((NARROW, self.narrow), (WIDE, self.wide)):
            pick = [j for j, p in enumerate(profiles) if width_of(p, self.params.loci) == width]
            if not pick:
                continue
            chosen = [profiles[j] for j in pick]
            codes = encode_profiles(chosen, self.vocab, width)
            cats = np.array([int(p.category) for p in chosen], np.uint8)
            agencies = np.array([self.agency_code(p.agency) for p in chosen], np.uint16)
            self._count(codes)
            shard.append(ids[pick], codes, cats, agencies)

    def add_codes(self, ids, codes, cats, agencies) -> None:
        """Append already encoded narrow-shard rows (bulk loads, benchmarks).

        ``codes`` is ``(n_loci, n, 2)`` uint8 in this index's vocabulary.
        """
        codes = np.asarray(codes)
        if codes.dtype != np.uint8 or codes.ndim != 3 or codes.shape[0] != len(self.params.loci) or codes.shape[2] != 2:
            raise ValueError(f"codes must be uint8 of shape ({len(self.params.loci)}, n, 2)")
        self._count(codes)
        self.narrow.append(np.asarray(ids, np.int64), codes, np.asarray(cats, np.uint8), np.asarray(agencies, np.uint16))

    def _count(self, codes: np.ndarray) -> None:
        for k in range(codes.shape[0]):
            counts = np.bincount(codes[k].ravel(), minlength=256)
            counts[0] = np.count_nonzero(codes[k, :, 0] == 0)
            self.code_counts[k] += counts

    def remove(self, ids) -> int:
        """Tombstone the profiles with these ids; returns how many were removed."""
        ids = np.asarray(ids, np.int64).reshape(-1)
        ids = ids[(ids >= 0) & (ids <= MAX_ID)]
        removed = 0
        for shard in self.shards:
            hit = np.isin(shard.ids, ids) & (shard.cats != DELETED)
            shard.cats[hit] = DELETED
            removed += int(hit.sum())
        return removed

    def decode(self, shard: Shard, i: int) -> dict[str, tuple[str, ...]]:
        """Locus -> alleles of row ``i`` of a shard, back from the codes."""
        out = {}
        for k, locus in enumerate(self.params.loci):
            codes = [int(c) for c in shard.codes[k, i] if c != 0]
            if codes:
                out[locus] = tuple(self.vocab.allele(k, c) for c in codes)
        return out

    def locate(self, record_id: int) -> tuple[Shard, int] | None:
        """(shard, row) of a live profile id, or None."""
        for shard in self.shards:
            rows = np.flatnonzero((shard.ids == record_id) & (shard.cats != DELETED))
            if rows.size:
                return shard, int(rows[0])
        return None

    def nbytes(self) -> int:
        """Bytes held per profile arrays (codes, category, agency, id) for the live rows."""
        return self.narrow.nbytes() + self.wide.nbytes()

    def category_filter(self, categories) -> np.ndarray:
        """(256,) bool table of allowed candidate category codes (None: all live ones)."""
        table = np.zeros(256, bool)
        if categories is None:
            table[[int(c) for c in ProfileCategory]] = True
        else:
            for c in categories:
                table[int(ProfileCategory.parse(c))] = True
        table[DELETED] = False
        return table

    def agency_filter(self, agencies) -> np.ndarray:
        """Bool table over agency codes (None: all); unknown agency names simply match nothing."""
        table = np.ones(max(1, len(self.agency_names)), bool)
        if agencies is not None:
            table[:] = False
            for name in agencies:
                code = self.agency_code(str(name), add=False)
                if code >= 0:
                    table[code] = True
        return table
