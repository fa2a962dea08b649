"""STR locus names, their aliases, and the standard locus sets (kits).

Every locus name that enters biomatch goes through :func:`normalise_locus`,
which maps the spellings met in kit software, CODIS files and population
tables (``VWA``, ``vWA31``, ``THO1``, ``PentaD``, ``AMEL`` ...) to one canonical
CODIS spelling. Unknown names raise :class:`ValueError`.

References
----------
.. [1] Hares DR (2015). Selection and implementation of expanded CODIS core
   loci in the United States. FSI: Genetics 17:33-34 (the CODIS 20).
.. [2] Council Resolution 2009/C 296/01 on the exchange of DNA analysis
   results (the European Standard Set, ESS 12).
.. [3] Council Decision 2008/616/JHA, Annex, chapter 1 (the Prüm 7 / ESS 7).
"""
from __future__ import annotations

import re

__all__ = [
    "AMELOGENIN", "CODIS_CORE_20", "CODIS_ORIGINAL_13", "ESS_12", "PRUM_7", "KITS",
    "AUTOSOMAL_LOCI", "KNOWN_LOCI", "normalise_locus", "kit_loci",
]

#: The sex marker: kept in profiles, never searched, never in statistics.
AMELOGENIN = "AMEL"

#: The 13 original CODIS core loci (1998).
CODIS_ORIGINAL_13 = (
    "CSF1PO", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539",
    "D18S51", "D21S11", "FGA", "TH01", "TPOX", "vWA",
)
#: The 20 CODIS core loci (from 2017), in the order of the FBI's list [1]_.
CODIS_CORE_20 = CODIS_ORIGINAL_13 + (
    "D1S1656", "D2S441", "D2S1338", "D10S1248", "D12S391", "D19S433", "D22S1045",
)
#: The European Standard Set [2]_.
ESS_12 = (
    "D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA",
    "D1S1656", "D2S441", "D10S1248", "D12S391", "D22S1045",
)
#: The Prüm / INTERPOL standard set of 7 loci [3]_.
PRUM_7 = ("D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA")

#: Autosomal STRs beyond the CODIS 20 that the shared population tables carry.
_EXTRA_AUTOSOMAL = (
    "SE33", "Penta C", "Penta D", "Penta E", "D6S1043", "F13A01", "F13B", "FESFPS", "LPL",
    # norSTR kinship panel (Oslo): 50 STRs in all, the rest are listed here.
    "APOAI1", "D10S1435", "D10S2325", "D11S2368", "D11S554", "D13S325", "D14S1434",
    "D15S659", "D17S1301", "D17S906", "D18S1364", "D19S253", "D20S482", "D21S2055",
    "D22GATA198B05", "D2S1360", "D3S1744", "D3S3045", "D4S2366", "D5S2500", "D5S2800",
    "D6S474", "D6S477", "D7S1517", "D7S3048", "D8S1132", "D9S1122",
)
#: All autosomal STR loci biomatch accepts, canonical spelling.
AUTOSOMAL_LOCI = CODIS_CORE_20 + _EXTRA_AUTOSOMAL
#: Every accepted locus name (autosomal STRs plus Amelogenin).
KNOWN_LOCI = AUTOSOMAL_LOCI + (AMELOGENIN,)

#: Named locus sets, by lower-case name.
KITS = {
    "codis20": CODIS_CORE_20,
    "codis13": CODIS_ORIGINAL_13,
    "ess12": ESS_12,
    "prum7": PRUM_7,
}

# Spellings seen in kit software and tables; keys are upper-case with spaces,
# dashes, underscores and dots removed (see _key).
_ALIASES = {
    "AMELOGENIN": AMELOGENIN, "AMEL": AMELOGENIN, "AM": AMELOGENIN,
    "THO1": "TH01", "TH01": "TH01", "HUMTH01": "TH01",
    "VWA": "vWA", "VWA31": "vWA", "VWA31A": "vWA", "HUMVWA": "vWA", "HUMVWA31A": "vWA",
    "FGA": "FGA", "FIBRA": "FGA", "HUMFIBRA": "FGA",
    "CSF1PO": "CSF1PO", "CSF": "CSF1PO", "HUMCSF1PO": "CSF1PO",
    "TPOX": "TPOX", "HUMTPOX": "TPOX",
    "SE33": "SE33", "ACTBP2": "SE33",
    "PENTAC": "Penta C", "PENTAD": "Penta D", "PENTAE": "Penta E",
    "F13A01": "F13A01", "F13A1": "F13A01", "FESFPS": "FESFPS", "FES": "FESFPS",
}


def _key(name: str) -> str:
    return re.sub(r"[\s\-_.]", "", name).upper()


_CANONICAL = {_key(n): n for n in KNOWN_LOCI}
_CANONICAL.update(_ALIASES)


def normalise_locus(name: str) -> str:
    """Return the canonical CODIS spelling of a locus name.

    Parameters
    ----------
    name : str
        A locus name in any usual spelling (``"VWA"``, ``"THO1"``, ``"Penta_D"``).

    Returns
    -------
    str
        The canonical name, e.g. ``"vWA"``, ``"TH01"``, ``"Penta D"``.

    Raises
    ------
    ValueError
        If the name is empty or not a known autosomal STR or Amelogenin.

    Examples
    --------
    >>> normalise_locus("THO1"), normalise_locus("VWA"), normalise_locus("pentad")
    ('TH01', 'vWA', 'Penta D')
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"empty locus name {name!r}")
    found = _CANONICAL.get(_key(name.strip()))
    if found is None:
        raise ValueError(f"unknown locus {name.strip()!r}")
    return found


def kit_loci(name: str) -> tuple[str, ...]:
    """Return the loci of a named set: ``codis20``, ``codis13``, ``ess12`` or ``prum7``.

    Raises
    ------
    ValueError
        For an unknown set name.
    """
    key = _key(name).lower()
    if key not in KITS:
        raise ValueError(f"unknown locus set {name!r}; choose one of {', '.join(KITS)}")
    return KITS[key]
