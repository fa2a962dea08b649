"""CODIS CMF XML (``urn:CODISImportFile-schema``): read and write STR profiles.

The subset of the CODIS Message Format handled here::

    <CODISImportFile xmlns="urn:CODISImportFile-schema">
      <HEADERVERSION>3.2</HEADERVERSION>
      <MESSAGETYPE>Import</MESSAGETYPE>
      <SOURCELAB>ORI</SOURCELAB>
      <SPECIMEN PARTIAL="false">
        <SPECIMENID>CS-001</SPECIMENID>
        <SPECIMENCATEGORY>Forensic, Unknown</SPECIMENCATEGORY>
        <LOCUS TRIALLELIC="false">
          <LOCUSNAME>D8S1179</LOCUSNAME>
          <ALLELE><ALLELEVALUE>13</ALLELEVALUE></ALLELE>
        </LOCUS>
      </SPECIMEN>
    </CODISImportFile>

``ALLELE`` may also carry its value as an ``ALLELEVALUE`` attribute. The owner
agency is ``SOURCELAB`` (a ``SPECIMEN``'s own ``SOURCELAB`` child wins).
``TRIALLELIC`` on ``LOCUS`` is a biomatch attribute; mixtures are known from
the category ``Forensic Mixture`` or a ``MIXTURE="true"`` specimen attribute.

Parsing uses :mod:`defusedxml`, which refuses entity expansion (billion
laughs), external entities and DTDs, and the file size is capped.
"""
from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .formats_csv import MAX_TEXT_BYTES
from .params import ProfileRules
from .profile import ProfileCategory, ProfileError, StrProfile

__all__ = ["CMF_NAMESPACE", "read_cmf", "parse_cmf", "format_cmf", "write_cmf"]

CMF_NAMESPACE = "urn:CODISImportFile-schema"
_NS = "{" + CMF_NAMESPACE + "}"
_TRUE = ("true", "yes", "1")

#: CODIS specimen category labels written for each biomatch category.
_CMF_LABELS = {
    ProfileCategory.CONVICTED_OFFENDER: "Convicted Offender",
    ProfileCategory.ARRESTEE: "Arrestee",
    ProfileCategory.FORENSIC_UNKNOWN: "Forensic, Unknown",
    ProfileCategory.FORENSIC_MIXTURE: "Forensic Mixture",
    ProfileCategory.MISSING_PERSON: "Missing Person",
    ProfileCategory.UNIDENTIFIED_REMAINS: "Unidentified Human (Remains)",
    ProfileCategory.RELATIVE_OF_MISSING_PERSON: "Biological Relative of Missing Person",
}


def _text(elem, tag: str) -> str:
    child = elem.find(_NS + tag)
    return (child.text or "").strip() if child is not None else ""


def read_cmf(path: str | os.PathLike, **kwargs) -> list[StrProfile]:
    """Read a CMF XML file; see :func:`parse_cmf`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise ValueError(f"{path}: larger than {MAX_TEXT_BYTES} bytes")
    return parse_cmf(path.read_bytes(), **kwargs)


def parse_cmf(data: bytes | str, *, wildcards: bool = False, rules: ProfileRules | None = None,
              agency: str = "") -> list[StrProfile]:
    """Parse CMF XML into validated profiles (all-or-nothing).

    Parameters
    ----------
    data : bytes or str
    wildcards : bool, keyword-only
        Apply the Prüm wildcard rules to allele values.
    rules : ProfileRules, optional
    agency : str
        Owner agency when the file names no ``SOURCELAB``.

    Raises
    ------
    ValueError
        Malformed or unsafe XML, wrong root or namespace, or a bad profile
        (:class:`ProfileError` naming specimen, locus and value).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        raise ValueError(f"CMF document larger than {MAX_TEXT_BYTES} bytes")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ValueError(f"unsafe XML refused: {exc}") from None
    except ET.ParseError as exc:
        raise ValueError(f"malformed CMF XML: {exc}") from None
    except LookupError as exc:  # an XML declaration naming an unknown encoding
        raise ValueError(f"malformed CMF XML: {exc}") from None
    if root.tag != _NS + "CODISImportFile":
        raise ValueError(f"not a CMF file: root element {root.tag!r}, expected CODISImportFile in {CMF_NAMESPACE}")
    file_agency = _text(root, "SOURCELAB") or agency
    profiles, seen = [], set()
    for number, spec in enumerate(root.iter(_NS + "SPECIMEN"), start=1):
        sid = _text(spec, "SPECIMENID")
        if not sid:
            raise ValueError(f"SPECIMEN number {number} has no SPECIMENID")
        if sid in seen:
            raise ProfileError(sid, "specimen id repeated in the file")
        seen.add(sid)
        profiles.append(_specimen(spec, sid, file_agency, wildcards, rules))
    if not profiles:
        raise ValueError("CMF file holds no SPECIMEN")
    return profiles


def _specimen(spec, sid: str, file_agency: str, wildcards: bool, rules) -> StrProfile:
    label = _text(spec, "SPECIMENCATEGORY") or "Forensic, Unknown"
    try:
        category = ProfileCategory.parse(label)
    except ValueError as exc:
        raise ProfileError(sid, str(exc)) from None
    loci, tri = {}, []
    for locus in spec.findall(_NS + "LOCUS"):
        name = _text(locus, "LOCUSNAME")
        if not name:
            raise ProfileError(sid, "LOCUS without LOCUSNAME")
        values = []
        for allele in locus.findall(_NS + "ALLELE"):
            value = allele.get("ALLELEVALUE") or _text(allele, "ALLELEVALUE")
            if not value:
                raise ProfileError(sid, "ALLELE without a value", locus=name)
            values.append(value)
        if name in loci:
            raise ProfileError(sid, "locus given twice", locus=name)
        if values:
            loci[name] = values
        if (locus.get("TRIALLELIC") or "").lower() in _TRUE:
            tri.append(name)
    mixture = (spec.get("MIXTURE") or "").lower() in _TRUE
    return StrProfile.build(sid, loci, wildcards=wildcards, rules=rules, category=category,
                            agency=_text(spec, "SOURCELAB") or file_agency, mixture=mixture, tri_allelic=tuple(tri))


def format_cmf(profiles, *, source_lab: str | None = None) -> bytes:
    """Serialise profiles as CMF XML bytes (UTF-8, with declaration)."""
    profiles = list(profiles)
    ET.register_namespace("", CMF_NAMESPACE)
    root = ET.Element(_NS + "CODISImportFile")
    for tag, value in (("HEADERVERSION", "3.2"), ("MESSAGETYPE", "Import")):
        ET.SubElement(root, _NS + tag).text = value
    lab = source_lab if source_lab is not None else (profiles[0].agency if profiles else "")
    ET.SubElement(root, _NS + "SOURCELAB").text = lab
    for p in profiles:
        spec = ET.SubElement(root, _NS + "SPECIMEN", {"PARTIAL": "false", "MIXTURE": "true" if p.mixture else "false"})
        ET.SubElement(spec, _NS + "SPECIMENID").text = p.specimen_id
        ET.SubElement(spec, _NS + "SPECIMENCATEGORY").text = _CMF_LABELS[p.category]
        if p.agency != lab:
            ET.SubElement(spec, _NS + "SOURCELAB").text = p.agency
        for name, alleles in p.loci.items():
            locus = ET.SubElement(spec, _NS + "LOCUS", {"TRIALLELIC": "true" if name in p.tri_allelic else "false"})
            ET.SubElement(locus, _NS + "LOCUSNAME").text = name
            for a in alleles:
                ET.SubElement(ET.SubElement(locus, _NS + "ALLELE"), _NS + "ALLELEVALUE").text = a
    ET.indent(root)
    buf = io.BytesIO()
    ET.ElementTree(root).write(buf, encoding="utf-8", xml_declaration=True)
    return buf.getvalue()


def write_cmf(profiles, path: str | os.PathLike, **kwargs) -> None:
    """Write profiles to ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(format_cmf(profiles, **kwargs))
    os.replace(tmp, path)
