"""The sharing policy: what a candidate owned by another agency shows before its owner releases the details.

Every candidate list the service answers (AFIS print, mark, reverse and
mark-to-mark searches; DNA searches and familial searches; face searches)
passes through :func:`share` with the caller's agency. A candidate whose item
(a record, or a mark) belongs to the caller's agency, or whose owner released
its details to the caller's agency (:meth:`Store.release_details`), is shown
in full with ``details_released: true``. Any other candidate keeps only the
fields of :data:`SHARED` for its kind of list: which item it is (its id, the
owner's reference and agency), the rank and the score, and the values
computed from the score alone. Every other field is ``null`` and
``details_released`` is ``false``.

What counts as the score
------------------------
* AFIS: the fused score and its calibrated strength, FMR and hit flag. These
  are fixed functions of the score (published calibration), so they say no
  more than the score, and an examiner cannot read a bare score. The finger
  position, the per-finger scores and the paired minutiae rows are details.
* DNA search: the rule and the numbers of loci compared and mismatching. The
  loci that matched or differed, the category and the match statistics
  (computed on the matched loci, so with the probe they reveal alleles) are
  details.
* Familial search: the relationship and the kinship index (KI). The per
  population and per locus KI and the IBS counts are details.
* Faces: the score and its calibrated FMR. Which face of the record matched
  (``face_id``) is a detail.

Ids of parts of an item (finger rows, DNA profile rows, face rows) are
details too; the item id stays, so the caller can ask the owner to release it.
Restricted items of other agencies never reach this point: searches drop them.
"""
from __future__ import annotations

from collections.abc import Iterable

from biomatch.index.store import Store

__all__ = ["SHARED", "FLAG", "share", "redacted_count", "check_details"]

#: Field added to every candidate: False when the details are withheld.
FLAG = "details_released"

#: Fields a candidate of another agency shows without a release, per candidate list.
SHARED: dict[str, frozenset[str]] = {
    "afis": frozenset({"rank", "kind", "id", "reference", "owner_agency", "score", "strength", "fmr",
                       "fmr_is_upper_bound", "hit"}),
    "dna": frozenset({"record_id", "specimen_id", "agency", "rule", "n_compared", "n_mismatches"}),
    "familial": frozenset({"record_id", "specimen_id", "agency", "relationship", "ki"}),
    "face": frozenset({"rank", "record_id", "external_ref", "owner_agency", "score", "fmr", "fmr_is_upper_bound"}),
}

# list -> (key of the item kind or a fixed kind, key of the item id, key of the owner agency or None to look it up)
_ITEMS = {
    "afis": ("kind", "id", "owner_agency"),
    "dna": ("=record", "record_id", None),  # the store's owner, not the agency field inside the profile
    "familial": ("=record", "record_id", None),
    "face": ("=record", "record_id", "owner_agency"),
}


def _kind(candidate: dict, key: str) -> str:
    return key[1:] if key.startswith("=") else candidate[key]


def share(store: Store, agency: str, candidates: Iterable[dict], *, listing: str) -> list[dict]:
    """Apply the sharing policy to candidate dicts of one list for a caller of ``agency``.

    Parameters
    ----------
    store : Store
        Where the releases (and, for familial lists, the owners) are read.
    agency : str
        The caller's agency (the API key's).
    candidates : iterable of dict
        The candidates as the route would answer them.
    listing : {'afis', 'dna', 'familial', 'face'}
        Which kind of candidate list (see :data:`SHARED`).

    Returns
    -------
    list of dict
        New dicts, in order, each with :data:`FLAG`; withheld fields are None.
        DNA and familial candidates get their ``agency`` from the store's record
        (the owner), whatever the profile itself names.
    """
    if listing not in SHARED:
        raise ValueError(f"listing must be one of {', '.join(SHARED)}; got {listing!r}")
    kind_key, id_key, owner_key = _ITEMS[listing]
    items = [dict(c) for c in candidates]
    if owner_key is None:
        owners = store.record_owners(c[id_key] for c in items)
        for c in items:
            c["agency"] = owners.get(c[id_key], "")
        owner_key = "agency"
    foreign: dict[str, set[int]] = {}
    for c in items:
        if c[owner_key] != agency:
            foreign.setdefault(_kind(c, kind_key), set()).add(c[id_key])
    released = {kind: store.released_to(agency, kind, ids) for kind, ids in foreign.items()}
    keep = SHARED[listing]
    for c in items:
        shown = c[owner_key] == agency or c[id_key] in released.get(_kind(c, kind_key), ())
        if not shown:
            for key in c:
                if key not in keep:
                    c[key] = None
        c[FLAG] = shown
    return items


def redacted_count(candidates: Iterable[dict]) -> int:
    """How many candidates had their details withheld (for the audit counts)."""
    return sum(not c[FLAG] for c in candidates)


def check_details(store: Store, user, kind: str, item_id: int, owner_agency: str) -> None:
    """403 (audited as ``auth.agency_denied``) unless the caller's agency owns the item or was released it.

    For routes that hand out an item's details outside a candidate list (the
    AFIS minutiae export).
    """
    from .auth import AgencyDenied

    if owner_agency != user.agency and item_id not in store.released_to(user.agency, kind, [item_id]):
        raise AgencyDenied(user, f"{kind} {item_id}", f"{kind} {item_id} belongs to agency {owner_agency!r} and "
                                                       f"its details were not released to agency {user.agency!r}")
