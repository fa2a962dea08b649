"""The STR profile template: locus -> allele designations, with provenance.

A profile is stored with set semantics per locus: a sorted tuple of distinct
canonical alleles (a homozygote ``12,12`` is ``("12",)``). Amelogenin is kept
but never searched and never counted toward the minimum number of loci.
"""
from __future__ import annotations

import enum
import json
import struct
import types
from dataclasses import dataclass, field
from typing import Mapping

from .alleles import WILDCARD, allele_sort_key, parse_allele
from .loci import AMELOGENIN, KNOWN_LOCI, normalise_locus
from .params import ProfileRules

__all__ = ["ProfileCategory", "StrProfile", "ProfileError", "ProfileVersionError", "PROFILE_VERSION"]

PROFILE_VERSION = 1
_MAGIC = b"BMDN"
_HEADER = struct.Struct("<4sH")
_LOCUS_ORDER = {name: i for i, name in enumerate(KNOWN_LOCI)}


class ProfileError(ValueError):
    """A profile breaks a rule; the message names the specimen, locus and value."""

    def __init__(self, specimen: str, problem: str, *, locus: str | None = None, value=None):
        self.specimen, self.locus, self.value, self.problem = specimen, locus, value, problem
        where = f"specimen {specimen!r}" + (f", locus {locus!r}" if locus else "")
        what = f": {problem}" + (f" {value!r}" if value is not None else "")
        super().__init__(where + what)


class ProfileVersionError(ValueError):
    """Serialized profile bytes of a version this code cannot read."""


class ProfileCategory(enum.IntEnum):
    """NDIS-style specimen categories; the integer is the index's uint8 code."""

    CONVICTED_OFFENDER = 1
    ARRESTEE = 2
    FORENSIC_UNKNOWN = 3
    FORENSIC_MIXTURE = 4
    MISSING_PERSON = 5
    UNIDENTIFIED_REMAINS = 6
    RELATIVE_OF_MISSING_PERSON = 7

    @property
    def slug(self) -> str:
        """Lower-case name used in files, the API and the store (``forensic_unknown``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, text) -> "ProfileCategory":
        """Accept a slug, an enum name, the integer code, or a CODIS label such as ``Forensic, Unknown``."""
        if isinstance(text, ProfileCategory):
            return text
        key = str(text).strip().lower().replace(",", " ").replace("-", " ").replace("(", " ").replace(")", " ")
        key = "_".join(key.split())
        if key.isdigit() and int(key) in cls._value2member_map_:
            return cls(int(key))
        key = _CATEGORY_ALIASES.get(key, key)
        for member in cls:
            if member.slug == key:
                return member
        raise ValueError(f"unknown profile category {text!r}; choose one of {', '.join(m.slug for m in cls)}")


_CATEGORY_ALIASES = {
    "offender": "convicted_offender", "forensic": "forensic_unknown", "mixture": "forensic_mixture",
    "unidentified_human": "unidentified_remains", "unidentified_human_remains": "unidentified_remains",
    "biological_relative_of_missing_person": "relative_of_missing_person",
    "relative": "relative_of_missing_person", "missing_person_relative": "relative_of_missing_person",
}


def _sorted_alleles(alleles) -> tuple[str, ...]:
    return tuple(sorted(set(alleles), key=allele_sort_key))


@dataclass(frozen=True)
class StrProfile:
    """One STR profile and its provenance.

    Parameters
    ----------
    specimen_id : str
        The laboratory's specimen identifier.
    loci : mapping of str to tuple of str
        Canonical locus name -> sorted distinct canonical alleles. Use
        :meth:`build` to create one from raw values with precise errors.
    category : ProfileCategory
        Convicted offender, arrestee, forensic unknown, ... .
    agency : str
        Owner agency (ORI or NCB code).
    mixture : bool
        More than one contributor: up to ``max_alleles_mixture`` alleles per locus.
    tri_allelic : tuple of str
        Loci declared tri-allelic (a third allele allowed on a single source).
    """

    specimen_id: str
    loci: Mapping[str, tuple[str, ...]]
    category: ProfileCategory = ProfileCategory.FORENSIC_UNKNOWN
    agency: str = ""
    mixture: bool = False
    tri_allelic: tuple[str, ...] = field(default=())

    def __post_init__(self):
        set_ = object.__setattr__
        sid = str(self.specimen_id).strip()
        if not sid:
            raise ProfileError("", "empty specimen id")
        set_(self, "specimen_id", sid)
        try:
            set_(self, "category", ProfileCategory.parse(self.category))
        except ValueError as exc:
            raise ProfileError(sid, str(exc)) from None
        set_(self, "agency", str(self.agency).strip())
        set_(self, "mixture", bool(self.mixture or self.category is ProfileCategory.FORENSIC_MIXTURE))
        loci = {}
        for raw_locus, alleles in dict(self.loci).items():
            try:
                locus = normalise_locus(raw_locus)
            except ValueError:
                raise ProfileError(sid, "unknown locus", value=str(raw_locus)) from None
            if locus in loci:
                raise ProfileError(sid, "locus given twice", locus=locus)
            if isinstance(alleles, str):
                alleles = (alleles,)
            parsed = []
            for value in alleles:
                try:
                    parsed.append(parse_allele(value, amelogenin=locus == AMELOGENIN))
                except ValueError as exc:
                    raise ProfileError(sid, str(exc), locus=locus) from None
            if not parsed:
                raise ProfileError(sid, "no alleles (leave an untyped locus out)", locus=locus)
            loci[locus] = _sorted_alleles(parsed)
        ordered = dict(sorted(loci.items(), key=lambda kv: _LOCUS_ORDER[kv[0]]))
        set_(self, "loci", types.MappingProxyType(ordered))
        tri = []
        for name in self.tri_allelic:
            try:
                tri.append(normalise_locus(name))
            except ValueError:
                raise ProfileError(sid, "unknown tri-allelic locus", value=str(name)) from None
        set_(self, "tri_allelic", tuple(sorted(set(tri), key=_LOCUS_ORDER.__getitem__)))

    # ----------------------------------------------------------------- creation
    @classmethod
    def build(cls, specimen_id, loci: Mapping, *, wildcards: bool = False,
              rules: ProfileRules | None = None, **provenance) -> "StrProfile":
        """Parse raw designations (Prüm wildcards optional) and validate.

        Parameters
        ----------
        specimen_id : str
        loci : mapping of str to sequence of str
            Raw locus names and allele values.
        wildcards : bool, keyword-only
            Read non-numeric values and 0/1/99 as wildcards (Prüm data).
        rules : ProfileRules, optional
            Limits to validate against (defaults).
        **provenance
            ``category``, ``agency``, ``mixture``, ``tri_allelic``.

        Raises
        ------
        ProfileError
            Naming the specimen, locus and offending value.
        """
        sid = str(specimen_id).strip()
        parsed = {}
        for raw_locus, alleles in dict(loci).items():
            try:
                locus = normalise_locus(raw_locus)
            except ValueError:
                raise ProfileError(sid, "unknown locus", value=str(raw_locus)) from None
            values = (alleles,) if isinstance(alleles, str) else tuple(alleles)
            out = []
            for value in values:
                try:
                    out.append(parse_allele(value, wildcards=wildcards, amelogenin=locus == AMELOGENIN))
                except ValueError as exc:
                    raise ProfileError(sid, str(exc), locus=locus) from None
            if locus in parsed:
                raise ProfileError(sid, "locus given twice", locus=locus)
            parsed[locus] = out
        profile = cls(sid, parsed, **provenance)
        profile.validate(rules)
        return profile

    # ---------------------------------------------------------------- queries
    @property
    def searchable_loci(self) -> tuple[str, ...]:
        """Typed autosomal loci (everything except Amelogenin)."""
        return tuple(k for k in self.loci if k != AMELOGENIN)

    def fully_designated(self, locus: str) -> bool:
        """True if the locus is typed with no wildcard and at most two alleles (Prüm)."""
        alleles = self.loci.get(locus)
        return bool(alleles) and WILDCARD not in alleles and len(alleles) <= 2

    def restrict(self, loci) -> "StrProfile":
        """A copy holding only the given loci (those it has)."""
        keep = {k: v for k, v in self.loci.items() if k in set(loci)}
        return StrProfile(self.specimen_id, keep, self.category, self.agency, self.mixture,
                          tuple(t for t in self.tri_allelic if t in keep))

    def validate(self, rules: ProfileRules | None = None) -> "StrProfile":
        """Check the allele counts and the minimum number of loci; return self.

        Raises
        ------
        ProfileError
            E.g. three alleles at a single-source locus not declared
            tri-allelic, more than 8 alleles at a mixture locus, too few loci.
        """
        rules = rules or ProfileRules()
        for locus, alleles in self.loci.items():
            n = len(alleles)
            if locus == AMELOGENIN:
                continue
            if self.mixture:
                limit, kind = rules.max_alleles_mixture, "mixture"
            elif locus in self.tri_allelic:
                limit, kind = rules.max_alleles_tri, "tri-allelic locus"
            else:
                limit, kind = rules.max_alleles_single, "single-source profile"
            if n > limit:
                raise ProfileError(self.specimen_id, f"{n} alleles on a {kind} (at most {limit})",
                                   locus=locus, value=",".join(alleles))
        for locus in self.tri_allelic:
            if locus not in self.loci:
                raise ProfileError(self.specimen_id, "declared tri-allelic but not typed", locus=locus)
        n_loci = len(self.searchable_loci)
        if n_loci < rules.min_loci:
            raise ProfileError(self.specimen_id, f"{n_loci} typed loci, fewer than the minimum {rules.min_loci}")
        return self

    # ---------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        """Plain JSON-ready form (used by the API and :meth:`to_bytes`)."""
        return {
            "specimen_id": self.specimen_id, "category": self.category.slug, "agency": self.agency,
            "mixture": self.mixture, "tri_allelic": list(self.tri_allelic),
            "loci": {k: list(v) for k, v in self.loci.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "StrProfile":
        """Inverse of :meth:`to_dict` (no validation against rules)."""
        try:
            return cls(d["specimen_id"], d["loci"], d.get("category", "forensic_unknown"),
                       d.get("agency", ""), d.get("mixture", False), tuple(d.get("tri_allelic", ())))
        except KeyError as exc:
            raise ValueError(f"profile record lacks {exc.args[0]!r}") from None

    def to_bytes(self) -> bytes:
        """Versioned binary form: ``b"BMDN"``, uint16 version, then UTF-8 JSON."""
        body = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")
        return _HEADER.pack(_MAGIC, PROFILE_VERSION) + body

    @classmethod
    def from_bytes(cls, data: bytes) -> "StrProfile":
        """Read bytes written by :meth:`to_bytes` of this or an older version."""
        if len(data) < _HEADER.size:
            raise ValueError("profile bytes too short")
        magic, version = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError("not a biomatch STR profile (bad magic)")
        if version > PROFILE_VERSION or version < 1:
            raise ProfileVersionError(f"STR profile version {version} is not readable by this code (max {PROFILE_VERSION})")
        try:
            d = json.loads(data[_HEADER.size:].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"corrupt STR profile body: {exc}") from None
        return cls.from_dict(d)
