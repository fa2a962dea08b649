"""Allele frequency tables: the shared CSV layout and the Familias/norSTR layout.

A :class:`FrequencyTable` holds, per locus, allele -> frequency and the number
of alleles typed (2N) when the source publishes it. Floors (5/2N) are applied
by the statistics in :mod:`biomatch.matcher.dna`, not here.
"""
from __future__ import annotations

import csv
import io
import math
import os
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .alleles import parse_allele
from .formats_csv import _read_text
from .loci import normalise_locus

__all__ = ["FrequencyTable", "read_frequency_csv", "parse_familias", "read_familias", "format_familias",
           "load_population_tables"]


@dataclass(frozen=True)
class FrequencyTable:
    """Allele frequencies of one population.

    Parameters
    ----------
    name : str
        ``source/population``, e.g. ``NIST1036/Cauc``.
    frequencies : mapping of str to mapping of str to float
        Canonical locus -> canonical allele -> frequency.
    n_alleles : mapping of str to int
        Canonical locus -> number of alleles typed (2N); loci absent here
        have no published N.
    """

    name: str
    frequencies: Mapping[str, Mapping[str, float]]
    n_alleles: Mapping[str, int]

    def __post_init__(self):
        for locus, table in self.frequencies.items():
            for allele, f in table.items():
                if not (0.0 < f <= 1.0) or math.isnan(f):
                    raise ValueError(f"{self.name}: locus {locus!r}, allele {allele!r}: frequency {f!r} not in (0, 1]")
        object.__setattr__(self, "frequencies", types.MappingProxyType(
            {k: types.MappingProxyType(dict(v)) for k, v in self.frequencies.items()}))
        object.__setattr__(self, "n_alleles", types.MappingProxyType(dict(self.n_alleles)))

    @property
    def loci(self) -> tuple[str, ...]:
        return tuple(self.frequencies)

    def has_locus(self, locus: str) -> bool:
        return locus in self.frequencies


def _add(tables: dict, name: str, locus: str, allele: str, freq: float, n: int | None, where: str):
    freqs, ns = tables.setdefault(name, ({}, {}))
    locus_table = freqs.setdefault(locus, {})
    if allele in locus_table:
        raise ValueError(f"{where}: {name} locus {locus!r} allele {allele!r} listed twice")
    locus_table[allele] = freq
    if n is not None:
        if ns.setdefault(locus, n) != n:
            raise ValueError(f"{where}: {name} locus {locus!r} has two different n_alleles")


def read_frequency_csv(path: str | os.PathLike, *, source: str | None = None,
                       population: str | None = None) -> dict[str, FrequencyTable]:
    """Read the shared layout ``source,population,locus,allele,count,n_alleles,frequency``.

    Parameters
    ----------
    path : path
    source, population : str, optional
        Keep only these rows.

    Returns
    -------
    dict of str to FrequencyTable
        Keyed ``"source/population"``.

    Notes
    -----
    Frequencies are the published ``frequency`` column as written (the
    reference values in ``worked_examples.csv`` are computed from it), not
    recomputed from ``count / n_alleles``.
    """
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    need = {"source", "population", "locus", "allele", "frequency"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise ValueError(f"{path}: expected columns {sorted(need)}")
    tables: dict = {}
    for line, r in enumerate(reader, start=2):
        if (source and r["source"] != source) or (population and r["population"] != population):
            continue
        where = f"{path}:{line}"
        try:
            locus = normalise_locus(r["locus"])
            allele = parse_allele(r["allele"])
            n = int(r["n_alleles"]) if (r.get("n_alleles") or "").strip() else None
            freq = float(r["frequency"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        _add(tables, f"{r['source']}/{r['population']}", locus, allele, freq, n, where)
    if not tables:
        raise ValueError(f"{path}: no rows for source={source!r} population={population!r}")
    return {name: FrequencyTable(name, f, n) for name, (f, n) in tables.items()}


def parse_familias(text: str, name: str, *, n_alleles: int | None = None) -> FrequencyTable:
    """Parse the Familias / norSTR text layout.

    The layout is a locus name on its own line, followed by lines
    ``allele<TAB>frequency``; blank lines separate loci. A first line
    ``Allele<TAB>Frequency`` is ignored.

    Parameters
    ----------
    text : str
    name : str
        Table name (e.g. ``norSTR/Norway``).
    n_alleles : int, optional
        2N for every locus when known (norSTR does not publish it).
    """
    freqs: dict = {}
    ns: dict = {}
    locus = None
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in raw.split("\t") if p.strip()]
        if len(parts) == 1:
            try:
                locus = normalise_locus(parts[0])
            except ValueError as exc:
                raise ValueError(f"{name} line {line_no}: {exc}") from None
            if locus in freqs:
                raise ValueError(f"{name} line {line_no}: locus {locus!r} given twice")
            freqs[locus] = {}
            if n_alleles:
                ns[locus] = n_alleles
            continue
        if len(parts) != 2:
            raise ValueError(f"{name} line {line_no}: expected 'allele<TAB>frequency', got {raw!r}")
        if parts[0].lower() == "allele":
            continue
        if locus is None:
            raise ValueError(f"{name} line {line_no}: allele line before any locus name")
        try:
            allele, freq = parse_allele(parts[0]), float(parts[1])
        except ValueError as exc:
            raise ValueError(f"{name} line {line_no}, locus {locus!r}: {exc}") from None
        if allele in freqs[locus]:
            raise ValueError(f"{name} line {line_no}: locus {locus!r} allele {allele!r} listed twice")
        freqs[locus][allele] = freq
    if not freqs:
        raise ValueError(f"{name}: no loci found")
    try:
        return FrequencyTable(name, freqs, ns)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def read_familias(path: str | os.PathLike, name: str | None = None, **kwargs) -> FrequencyTable:
    """Read a Familias / norSTR frequency file; see :func:`parse_familias`."""
    return parse_familias(_read_text(path), name or Path(path).stem, **kwargs)


def format_familias(table: FrequencyTable) -> str:
    """Write a table in the Familias / norSTR layout."""
    out = []
    for locus, alleles in table.frequencies.items():
        out.append(locus)
        out += [f"{a}\t{f!r}" for a, f in alleles.items()]
        out.append("")
    return "\n".join(out)


def load_population_tables(path: str | os.PathLike, source: str = "NIST1036",
                           exclude: tuple[str, ...] = ("All",)) -> dict[str, FrequencyTable]:
    """The sub-population tables of one source, e.g. NIST1036 AfAm/Asian/Cauc/Hisp.

    The pooled ``All`` table is left out by default (SOURCES.md: do not combine
    it with the sub-populations).
    """
    tables = read_frequency_csv(path, source=source)
    return {k: v for k, v in tables.items() if k.split("/", 1)[1] not in exclude}
