"""Allele designations: parsing to one canonical string form, and ordering.

Canonical forms
---------------
* whole repeats: ``"12"`` (leading zeros and ``.0`` removed);
* microvariants: ``"9.3"`` (one digit after the point, 1 to 9);
* off-ladder bins: ``"<8"``, ``">27"`` (kept as designations of their own);
* the wildcard ``"*"`` (matches any allele, see below);
* ``"X"`` and ``"Y"`` at Amelogenin only.

Wildcards follow the Prüm rules [1]_: when a file is read with
``wildcards=True`` (data from a Prüm / DNA Gateway exchange), any non-numeric
value and the codes 0, 1 and 99 become ``"*"``. Without it (the default for
laboratory exports) such values are errors, because ``"abc"`` in a GeneMapper
export is a typing mistake, not a wildcard. ``"*"`` itself is always accepted.

References
----------
.. [1] Council Decision 2008/616/JHA, Annex chapter 1, section 1.1: "the
   values 0, 1 and 99 and non-numeric values ... are wildcards".
"""
from __future__ import annotations

import re

__all__ = ["WILDCARD", "PRUM_WILDCARD_CODES", "parse_allele", "allele_sort_key", "allele_value"]

#: The canonical wildcard designation.
WILDCARD = "*"
#: Numeric designations that the Prüm rules read as wildcards.
PRUM_WILDCARD_CODES = ("0", "1", "99")

_INT = re.compile(r"^\d{1,3}$")
_MICRO = re.compile(r"^(\d{1,3})\.(\d)$")
_OFF = re.compile(r"^([<>])\s*(\d{1,3}(?:\.\d)?)$")


def _canonical_number(text: str) -> str | None:
    if _INT.match(text):
        return str(int(text))
    m = _MICRO.match(text)
    if m:
        whole, frac = int(m.group(1)), m.group(2)
        return str(whole) if frac == "0" else f"{whole}.{frac}"
    return None


def parse_allele(text, *, wildcards: bool = False, amelogenin: bool = False) -> str:
    """Parse one allele designation into its canonical string.

    Parameters
    ----------
    text : str or int or float
        The designation as written (``"9.3"``, ``12``, ``"<8"``, ``"X"``).
    wildcards : bool, keyword-only
        Apply the Prüm wildcard rules (non-numeric, 0, 1, 99 become ``"*"``).
    amelogenin : bool, keyword-only
        The value belongs to Amelogenin: only ``X`` and ``Y`` are valid.

    Returns
    -------
    str
        The canonical designation.

    Raises
    ------
    ValueError
        If the value is not a valid designation (message names the value).

    Examples
    --------
    >>> parse_allele("09"), parse_allele("9.3"), parse_allele("> 27"), parse_allele("99", wildcards=True)
    ('9', '9.3', '>27', '*')
    """
    if isinstance(text, bool) or text is None:
        raise ValueError(f"invalid allele {text!r}")
    if isinstance(text, float):
        text = repr(text)
    raw = str(text).strip()
    if not raw:
        raise ValueError("empty allele")
    if amelogenin:
        up = raw.upper()
        if up in ("X", "Y"):
            return up
        if raw == WILDCARD or wildcards:
            return WILDCARD
        raise ValueError(f"invalid Amelogenin allele {raw!r} (expected X or Y)")
    if raw == WILDCARD:
        return WILDCARD
    number = _canonical_number(raw)
    if number is not None:
        if number in PRUM_WILDCARD_CODES:
            if wildcards:
                return WILDCARD
            raise ValueError(f"allele {raw!r} is a Prüm wildcard code (0, 1, 99); read the file with wildcards enabled")
        return number
    m = _OFF.match(raw)
    if m:
        return m.group(1) + _canonical_number(m.group(2))
    if wildcards:
        return WILDCARD
    raise ValueError(f"invalid allele {raw!r}")


def allele_value(allele: str) -> float:
    """Numeric position of a canonical allele for ordering (microvariant 9.3 -> 9.3).

    Off-ladder ``<n`` sits just below ``n`` and ``>n`` just above; the wildcard
    and X/Y sort after every number.
    """
    if allele == WILDCARD:
        return 1e9
    if allele in ("X", "Y"):
        return 1e6 + (allele == "Y")
    if allele[0] == "<":
        return float(allele[1:]) - 0.05
    if allele[0] == ">":
        return float(allele[1:]) + 0.95
    return float(allele)


def allele_sort_key(allele: str) -> tuple[float, str]:
    """Sort key giving the usual ladder order of canonical alleles."""
    return (allele_value(allele), allele)
