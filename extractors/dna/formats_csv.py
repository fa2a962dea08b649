"""GeneMapper-style CSV profiles (read and write) and the shared data's CSV layouts.

GeneMapper export layout
------------------------
One row per sample and marker: ``Sample Name, Marker, Allele 1, ..., Allele n``
(comma or tab separated; further GeneMapper columns such as ``Size 1`` or
``Height 1`` are ignored). Optional biomatch columns: ``Category``,
``Agency``, ``Mixture`` (yes/no) and ``Tri-allelic`` (yes/no, per row).
Blank allele cells are skipped; a marker with no allele at all is "not typed".

Reading is all-or-nothing: the first bad value raises a :class:`ProfileError`
naming the specimen, locus and value (and the line), and nothing is returned.
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections import OrderedDict
from pathlib import Path

from .params import ProfileRules
from .profile import ProfileCategory, ProfileError, StrProfile

__all__ = ["read_genemapper_csv", "parse_genemapper_csv", "write_genemapper_csv", "format_genemapper_csv",
           "read_genotype_table", "read_control_profiles", "MAX_TEXT_BYTES"]

#: Largest CSV or XML file accepted (bytes).
MAX_TEXT_BYTES = 256 * 1024 * 1024
_ALLELE_COL = re.compile(r"^allele\s*(\d+)$", re.IGNORECASE)
_TRUE = {"1", "y", "yes", "true", "t", "x"}


def _read_text(path) -> str:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise ValueError(f"{path}: larger than {MAX_TEXT_BYTES} bytes")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_genemapper_csv(path: str | os.PathLike, **kwargs) -> list[StrProfile]:
    """Read profiles from a GeneMapper-style CSV file; see :func:`parse_genemapper_csv`."""
    return parse_genemapper_csv(_read_text(path), **kwargs)


def _header_map(header: list[str]) -> tuple[dict, list[int]]:
    names = {h.strip().lower(): i for i, h in enumerate(header)}
    cols = {}
    for key, options in {"sample": ("sample name", "sample file", "sample", "specimen"),
                         "marker": ("marker", "locus"), "category": ("category",), "agency": ("agency",),
                         "mixture": ("mixture",), "tri": ("tri-allelic", "triallelic", "tri_allelic")}.items():
        cols[key] = next((names[o] for o in options if o in names), None)
    if cols["sample"] is None or cols["marker"] is None:
        raise ValueError("CSV header needs 'Sample Name' and 'Marker' columns")
    allele_cols = sorted(((int(m.group(1)), i) for i, h in enumerate(header)
                          if (m := _ALLELE_COL.match(h.strip()))))
    if not allele_cols:
        raise ValueError("CSV header needs 'Allele 1' .. 'Allele n' columns")
    return cols, [i for _, i in allele_cols]


def parse_genemapper_csv(text: str, *, category=ProfileCategory.FORENSIC_UNKNOWN, agency: str = "",
                         wildcards: bool = False, rules: ProfileRules | None = None) -> list[StrProfile]:
    """Parse GeneMapper-style CSV text into validated profiles.

    Parameters
    ----------
    text : str
    category, agency
        Provenance for rows without ``Category`` / ``Agency`` columns.
    wildcards : bool, keyword-only
        Apply the Prüm wildcard rules to allele values.
    rules : ProfileRules, optional

    Returns
    -------
    list of StrProfile
        In order of first appearance of each sample.

    Raises
    ------
    ProfileError, ValueError
    """
    sample_text = text[:4096]
    delimiter = "\t" if sample_text.count("\t") > sample_text.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ValueError(f"malformed CSV: {exc}") from None
    reader = iter(rows)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("empty CSV") from None
    cols, allele_cols = _header_map(header)
    samples: OrderedDict[str, dict] = OrderedDict()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        cell = lambda i: row[i].strip() if i is not None and i < len(row) else ""  # noqa: E731
        sid, marker = cell(cols["sample"]), cell(cols["marker"])
        if not sid:
            raise ValueError(f"line {line_no}: empty sample name")
        entry = samples.setdefault(sid, {"loci": {}, "tri": [], "category": cell(cols["category"]) or category,
                                         "agency": cell(cols["agency"]) or agency,
                                         "mixture": cell(cols["mixture"]).lower() in _TRUE})
        values = [cell(i) for i in allele_cols if cell(i)]
        if not values:
            continue
        if marker in entry["loci"]:
            raise ProfileError(sid, f"marker repeated on line {line_no}", locus=marker)
        entry["loci"][marker] = values
        if cell(cols["tri"]).lower() in _TRUE:
            entry["tri"].append(marker)
    profiles = []
    for sid, e in samples.items():
        try:
            cat = ProfileCategory.parse(e["category"])
        except ValueError as exc:
            raise ProfileError(sid, str(exc)) from None
        profiles.append(StrProfile.build(sid, e["loci"], wildcards=wildcards, rules=rules, category=cat,
                                         agency=e["agency"], mixture=e["mixture"], tri_allelic=tuple(e["tri"])))
    if not profiles:
        raise ValueError("CSV holds no profiles")
    return profiles


def format_genemapper_csv(profiles) -> str:
    """Write profiles as GeneMapper-style CSV text (with the biomatch provenance columns)."""
    profiles = list(profiles)
    width = max([len(a) for p in profiles for a in p.loci.values()] + [2])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Sample Name", "Category", "Agency", "Mixture", "Tri-allelic", "Marker"]
               + [f"Allele {i + 1}" for i in range(width)])
    for p in profiles:
        for locus, alleles in p.loci.items():
            w.writerow([p.specimen_id, p.category.slug, p.agency, "yes" if p.mixture else "no",
                        "yes" if locus in p.tri_allelic else "no", locus]
                       + list(alleles) + [""] * (width - len(alleles)))
    return out.getvalue()


def write_genemapper_csv(profiles, path: str | os.PathLike) -> None:
    """Write profiles to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(format_genemapper_csv(profiles), encoding="utf-8")
    os.replace(tmp, path)


def read_genotype_table(path: str | os.PathLike, *, category=ProfileCategory.CONVICTED_OFFENDER,
                        agency: str = "", rules: ProfileRules | None = None) -> tuple[list[StrProfile], dict]:
    """Read the long genotype layout ``sample_id,population,locus,allele1,allele2``.

    This is the layout of ``dna/nist1036_genotypes.csv``. Blank alleles mean
    "not typed" and leave the locus out.

    Returns
    -------
    profiles : list of StrProfile
    populations : dict of str to str
        Specimen id -> population label.
    """
    rows = list(csv.DictReader(io.StringIO(_read_text(path))))
    need = {"sample_id", "locus", "allele1", "allele2"}
    if not rows or not need <= set(rows[0]):
        raise ValueError(f"{path}: expected columns {sorted(need)}")
    loci: OrderedDict[str, dict] = OrderedDict()
    pops = {}
    for r in rows:
        sid = r["sample_id"].strip()
        pops[sid] = (r.get("population") or "").strip()
        values = [v for v in (r["allele1"].strip(), r["allele2"].strip()) if v]
        entry = loci.setdefault(sid, {})
        if values:
            entry[r["locus"]] = values
    profiles = [StrProfile.build(sid, lc, rules=rules, category=category, agency=agency) for sid, lc in loci.items()]
    return profiles, pops


def read_control_profiles(path: str | os.PathLike, *, rules: ProfileRules | None = None) -> dict[str, StrProfile]:
    """Read ``dna/control_dna_profiles.csv`` (autosomal loci and Amelogenin only).

    Loci listed with three alleles are declared tri-allelic (the file documents
    K562 D21S11 and 9948 CSF1PO as real tri-allelic patterns). Controls
    with few autosomal loci are kept: the default rules here ask for one locus.
    """
    rules = rules or ProfileRules(min_loci=1)
    rows = list(csv.DictReader(io.StringIO(_read_text(path))))
    by_control: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        if r["locus_type"] not in ("autosomal", "sex"):
            continue
        alleles = [a for a in r["alleles"].split(";") if a.strip()]
        by_control.setdefault(r["control"], {})[r["locus"]] = alleles
    out = {}
    for name, loci in by_control.items():
        if set(loci) <= {"AMEL"}:
            continue  # a Y/X-only control (3657): nothing autosomal to match
        tri = tuple(k for k, v in loci.items() if len(v) == 3)
        out[name] = StrProfile.build(name, loci, rules=rules, category=ProfileCategory.FORENSIC_UNKNOWN,
                                     agency="CONTROL", tri_allelic=tri)
    return out
