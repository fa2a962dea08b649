"""ANSI/NIST-ITL transactions through the ``nistitl`` package: finger images in, minutiae out.

Read: Type-4 (binary, raw or WSQ) and Type-14 finger images, Type-13 latent
images, Type-9 minutiae in the INCITS 378 block (9.126-9.137), else in the
legacy fields 9.004-9.012 (:mod:`.ansinist_legacy`), Type-1 TOT/TCN and Type-2
fields as text. Write: the same records (Type-9 with both minutiae blocks).

Type-9 INCITS 378 ("M1", ``docs/fingerprint-formats.md``): origin top-left, y
down, pixels at the record's resolution (rescaled to 500 ppi), angle in 2-degree
units counter-clockwise on screen, an ending pointing into the ridge; type 1
ending, 2 bifurcation, 0 other; biomatch ``theta = (360 - 2 * code) mod 360``.

Only what ``nistitl`` parses is trusted: a transaction it cannot parse, a
record whose image does not decode, or a finger position outside 1..10 is
refused with a ``ValueError`` naming the record.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from biomatch.extractors.fingerprint.template import FingerprintTemplate, MinutiaeSource, MinutiaKind
from biomatch.extractors.imageio import decode_image

from .ansinist_legacy import LEGACY_TAGS, field_items, read_legacy, write_legacy

__all__ = ["FingerImage", "Transaction", "read_transaction", "write_transaction", "type9_record", "tenprint_templates"]

_T4 = "!B6sBHHB"  # IMP, FGP (6 bytes), ISR, HLL, VLL, GCA; then the image
_ROLLED, _PLAIN = {1, 3}, {0, 2}


@dataclass(frozen=True)
class FingerImage:
    """A finger or latent image of a transaction."""

    record_type: int
    idc: int
    position: int  # ANSI/NIST FGP; 0 unknown
    image: np.ndarray  # (rows, cols) uint8
    dpi: float
    impression: str  # "rolled", "plain", "unknown" (or "latent")


@dataclass(frozen=True)
class Transaction:
    tot: str
    tcn: str
    fingers: list[FingerImage] = field(default_factory=list)
    latents: list[FingerImage] = field(default_factory=list)
    minutiae: list[tuple[int, int, FingerprintTemplate]] = field(default_factory=list)  # (idc, position, template)
    descriptive: dict[int, str] = field(default_factory=dict)  # Type-2 fields by number, as text


def _impression(code: int) -> str:
    return "rolled" if code in _ROLLED else "plain" if code in _PLAIN else "unknown"


def _decode(data: bytes, compression: str, width: int, height: int, what: str, max_pixels: int) -> np.ndarray:
    comp = compression.upper()
    if comp in ("NONE", "0", ""):
        if width * height > max_pixels:
            raise ValueError(f"{what}: {width}x{height} image is over the limit of {max_pixels} pixels")
        if len(data) != width * height:
            raise ValueError(f"{what}: uncompressed image has {len(data)} bytes, expected {width}x{height}")
        return np.frombuffer(data, np.uint8).reshape(height, width).copy()
    return decode_image(data, mode="L", max_pixels=max_pixels, name=what)


def _text(rec, tag: int, default: str = "") -> str:
    try:
        v = rec[tag].value
    except Exception:
        return default
    return v if isinstance(v, str) else default


def _dpi(rec, what: str) -> float:
    slc, thps = _text(rec, 8, "1"), _text(rec, 9, "500")
    try:
        scale = float(thps)
    except ValueError:
        raise ValueError(f"{what}: unreadable pixel scale {thps!r}") from None
    if slc == "2":
        scale *= 2.54
    elif slc != "1":
        scale = 500.0  # no scale given
    if not 100 <= scale <= 5000:
        raise ValueError(f"{what}: resolution {scale:g} ppi out of range 100..5000")
    return scale


def _position(text: str, what: str, allow_unknown: bool) -> int:
    try:
        first = int(str(text).split("\x1e")[0] or 0)
    except ValueError:
        raise ValueError(f"{what}: unreadable finger position {text!r}") from None
    if first == 0 and allow_unknown:
        return 0
    if not 1 <= first <= 10:
        raise ValueError(f"{what}: finger position {first} is not a single finger (1..10); "
                         "slaps and palms are not supported")
    return first


def read_transaction(data: bytes, *, max_pixels: int = 40_000_000) -> Transaction:
    """Parse an ANSI/NIST-ITL transaction (see the module notes for what is read)."""
    import nistitl

    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValueError("ANSI/NIST-ITL transaction is empty")
    msg = nistitl.Message()
    try:
        msg.parse(bytes(data))
    except Exception as exc:  # nistitl raises NistException and, on garbage, others
        raise ValueError(f"not a readable ANSI/NIST-ITL transaction: {exc}") from None
    tot = tcn = ""
    out = Transaction("", "")
    type9 = []
    for rec in msg:
        what = f"Type-{rec.type} record"
        if rec.type == 1:
            tot, tcn = _text(rec, 4), _text(rec, 9)
        elif rec.type == 2:
            out.descriptive.update({f.tag: f.value for f in rec._sorted_fields(1) if isinstance(f.value, str)})
        elif rec.type == 4:
            what = f"Type-4 record IDC {rec.IDC}"
            try:
                imp, fgp, isr, hll, vll, gca, img = rec.unpack(_T4)
            except struct.error:
                raise ValueError(f"{what}: truncated header") from None
            dpi = 500.0
            if isr == 1:
                nsr = _text(msg[0], 11, "19.69")
                dpi = float(nsr) * 25.4
            image = _decode(img, "NONE" if gca == 0 else "WSQ", hll, vll, what, max_pixels)
            out.fingers.append(FingerImage(4, int(rec.IDC), _position(str(fgp[0]), what, False), image, dpi,
                                           _impression(imp)))
        elif rec.type in (13, 14):
            what = f"Type-{rec.type} record IDC {rec.IDC}"
            try:
                body = rec[999].value
                hll, vll = int(_text(rec, 6)), int(_text(rec, 7))
            except Exception:
                raise ValueError(f"{what}: missing image data or size (fields 6, 7, 999)") from None
            image = _decode(body, _text(rec, 11, "NONE"), hll, vll, what, max_pixels)
            try:
                imp = int(_text(rec, 3, "-1"))
            except ValueError:
                imp = -1
            fi = FingerImage(rec.type, int(rec.IDC), _position(_text(rec, 13, "0"), what, rec.type == 13), image,
                             _dpi(rec, what), "latent" if rec.type == 13 else _impression(imp))
            (out.latents if rec.type == 13 else out.fingers).append(fi)
        elif rec.type == 9:
            type9.append(rec)
    sizes_mm = {f.idc: (f.image.shape[1] * 25.4 / f.dpi, f.image.shape[0] * 25.4 / f.dpi)  # legacy y needs the
                for f in reversed(out.fingers + out.latents) if f.dpi > 0}  # height of the same IDC's image
    out.minutiae.extend(_read_type9(rec, sizes_mm) for rec in type9)
    return Transaction(tot, tcn, out.fingers, out.latents, out.minutiae, out.descriptive)


def _read_type9(rec, sizes_mm: dict) -> tuple[int, int, FingerprintTemplate]:
    """INCITS 378 minutiae, else (no usable block) the legacy 9.012 ones, sized by 9.128-9.131 or the image."""
    what = f"Type-9 record IDC {rec.IDC}"
    try:
        return _read_incits(rec, what)
    except ValueError:
        if rec[12] is None and rec[10] is None:
            raise
    fields = {tag: field_items(rec[tag].value) for tag in LEGACY_TAGS + (128, 129, 130, 131) if rec[tag] is not None}
    position = _position(_text(rec, 134) or (fields.get(6) or [["0"]])[0][0], what, True)
    return int(rec.IDC), position, read_legacy(fields, image_mm=sizes_mm.get(int(rec.IDC)), what=what)


def _read_incits(rec, what: str) -> tuple[int, int, FingerprintTemplate]:
    try:
        rows = [[int(v) for v in sf.values] for sf in rec[137]]
        w, h = int(_text(rec, 128)), int(_text(rec, 129))
        dpi = float(_text(rec, 131, "500")) * (2.54 if _text(rec, 130, "1") == "2" else 1.0)
    except Exception:
        raise ValueError(f"{what}: no readable minutiae (INCITS 378 9.128, 9.129, 9.137; legacy 9.012)") from None
    if not rows or any(len(r) < 6 for r in rows):
        raise ValueError(f"{what}: field 9.137 needs items (index, x, y, theta, quality, type)")
    a = np.array(rows, np.float64)
    s = 500.0 / dpi
    kinds = {1: MinutiaKind.ENDING, 2: MinutiaKind.BIFURCATION}
    t = FingerprintTemplate(
        x=a[:, 1] * s, y=a[:, 2] * s, angle=np.radians(np.mod(360.0 - 2.0 * a[:, 3], 360.0)),
        kind=np.array([int(kinds.get(int(k), MinutiaKind.OTHER)) for k in a[:, 5]], np.uint8),
        quality=np.clip(a[:, 4], 0, 100).astype(np.uint8), width=max(1, round(w * s)), height=max(1, round(h * s)),
        dpi=500, minutiae_source=MinutiaeSource.IMPORTED)
    return int(rec.IDC), _position(_text(rec, 134, "0"), what, True), t.validate()


def type9_record(template: FingerprintTemplate, idc: int, position: int = 0, *, blocks: str = "both"):
    """A Type-9 record (``nistitl.AsciiRecord``) of ``template``: ``blocks`` "both" (INCITS 378 9.126-9.137
    and legacy 9.005-9.012 with FMT ``S``, so peers that read either get the minutiae), "incits" or "legacy"."""
    import nistitl

    if blocks not in ("both", "incits", "legacy"):
        raise ValueError(f"Type-9 blocks must be 'both', 'incits' or 'legacy', got {blocks!r}")
    r = nistitl.AsciiRecord(9)
    r.IDC = int(idc)
    r += nistitl.Field(9, 3, "0")  # IMP
    r += nistitl.Field(9, 4, "U" if blocks == "incits" else "S")  # FMT: S = the standard-format fields are present
    if blocks != "incits":
        for tag, value in write_legacy(template, position):
            r += nistitl.Field(9, tag, value)
    if blocks == "legacy":
        return r
    for tag, v in ((128, template.width), (129, template.height), (130, 1), (131, template.dpi),
                   (132, template.dpi), (134, int(position)), (136, len(template))):
        r += nistitl.Field(9, tag, str(v))
    theta = np.mod(np.round((360.0 - np.degrees(template.angle.astype(np.float64))) / 2.0), 180).astype(int)
    code = {int(MinutiaKind.ENDING): 1, int(MinutiaKind.BIFURCATION): 2}
    f = nistitl.Field(9, 137)
    f.value = [[str(i + 1), str(int(round(x))), str(int(round(y))), str(int(t)), str(int(q)),
                str(code.get(int(k), 0))]
               for i, (x, y, t, q, k) in enumerate(zip(template.x, template.y, theta, template.quality, template.kind))]
    r += f
    return r


def write_transaction(*, tot: str = "CAR", tcn: str = "", fingers: dict | None = None, record_type: int = 14,
                      compression: str = "WSQ", latents: list | None = None, minutiae: dict | None = None,
                      name: str | None = None, type9_blocks: str = "both") -> bytes:
    """Build a transaction.

    ``fingers`` maps positions 1..10 to ``(grey uint8 array, dpi)``, written
    as Type-14 (or Type-4 at 500 ppi) records, rolled, ``compression`` "WSQ"
    or "NONE"; ``latents`` are ``(array, dpi)`` written as Type-13;
    ``minutiae`` maps positions to templates, written as Type-9 (``blocks`` of
    :func:`type9_record`), with the IDC of that position's image if there is one.
    """
    import nistitl

    if record_type not in (4, 14):
        raise ValueError(f"finger images are Type-4 or Type-14, not Type-{record_type}")
    msg = nistitl.Message()
    msg.TOT, msg[0].TCN = tot, tcn
    t2 = nistitl.AsciiRecord(2)
    t2.IDC = 0
    if name:
        t2 += nistitl.Field(2, 18, name)
    msg += t2
    idc, image_idc = 1, {}
    for pos, (img, dpi) in sorted((fingers or {}).items()):
        image_idc[pos] = idc
        img = np.ascontiguousarray(img, np.uint8)
        data = _encode(img, dpi, compression)
        if record_type == 4:
            if dpi != 500:
                raise ValueError("Type-4 images are written at 500 ppi")
            r = nistitl.BinaryRecord(4)
            r.IDC = idc
            r.pack(_T4, 3, bytes([int(pos), 255, 255, 255, 255, 255]), 0, img.shape[1], img.shape[0],
                   0 if compression.upper() == "NONE" else 1, data)
        else:
            r = _image_record(14, idc, img, dpi, compression, data, imp="3", fgp=str(int(pos)))
        msg += r
        idc += 1
    for img, dpi in latents or []:
        img = np.ascontiguousarray(img, np.uint8)
        msg += _image_record(13, idc, img, dpi, compression, _encode(img, dpi, compression), imp="4", fgp="0")
        idc += 1
    for pos, t in sorted((minutiae or {}).items()):
        msg += type9_record(t, image_idc.get(pos, idc), pos, blocks=type9_blocks)
        idc += pos not in image_idc
    return msg.NIST


def _image_record(rtype, idc, img, dpi, compression, data, *, imp, fgp):
    import nistitl

    r = nistitl.AsciiRecord(rtype)
    r.IDC = idc
    r.IMP, r.SRC = imp, "BIOMATCH"
    r.HLL, r.VLL = str(img.shape[1]), str(img.shape[0])
    r.SLC, r.THPS, r.TVPS = "1", str(int(round(dpi))), str(int(round(dpi)))
    r.CGA = "NONE" if compression.upper() == "NONE" else "WSQ20"
    r.BPX, r.FGP = "8", fgp
    r._999 = data
    return r


def _encode(img: np.ndarray, dpi: float, compression: str) -> bytes:
    if compression.upper() == "NONE":
        return img.tobytes()
    if compression.upper() != "WSQ":
        raise ValueError(f"compression must be 'WSQ' or 'NONE', got {compression!r}")
    import io

    import wsq  # noqa: F401 - registers the WSQ Pillow plugin
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img, "L").save(buf, "WSQ")
    return buf.getvalue()


def tenprint_templates(tx: Transaction, detector: str = "ridges") -> dict[int, FingerprintTemplate]:
    """One template per finger position: extracted from the image (rolled before plain) with the minutiae
    ``detector`` ("ridges" or "leader"), else from Type-9."""
    from biomatch.extractors.fingerprint import detector_params, extract_fingerprint

    rank = {"rolled": 0, "plain": 1, "unknown": 2}
    best: dict[int, FingerImage] = {}
    for f in tx.fingers:
        if f.position not in best or rank[f.impression] < rank[best[f.position].impression]:
            best[f.position] = f
    params = detector_params(detector)
    out = {p: extract_fingerprint(f.image, f.dpi, params=params) for p, f in sorted(best.items())}
    for _idc, pos, t in tx.minutiae:
        if pos and pos not in out:
            out[pos] = t
    if not out:
        raise ValueError("the transaction holds no finger image (Type-4/14) or finger minutiae (Type-9)")
    return out
