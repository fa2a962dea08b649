"""Bulk-probe reports: CSV and JSON (one row per face) and a self-contained HTML page.

Every input file appears: faces with their candidates, files with no face
("no face found") and skipped files with the reason. The HTML embeds each
probe face crop as a base64 JPEG beside its candidate list (the store keeps
no gallery images, so candidates are shown by reference, agency, score and
FMR).
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from pathlib import Path

__all__ = ["write_report", "report_rows", "REPORT_FORMATS"]

REPORT_FORMATS = (".csv", ".json", ".html", ".htm")


def _face_row(f, top: int) -> dict:
    x, y, w, h = (round(float(v), 1) for v in f.template.box)
    row = {"source": f.source, "status": "face", "face": f.face_index, "box_x": x, "box_y": y, "box_w": w, "box_h": h,
           "detection_score": round(f.template.detection_score, 3), "quality": "; ".join(f.below_floor) or "ok",
           "cluster": f.cluster if f.cluster > 0 else ""}
    for c in range(top):
        cand = f.candidates[c] if c < len(f.candidates) else None
        row[f"cand{c + 1}_ref"] = cand.external_ref if cand else ""
        row[f"cand{c + 1}_agency"] = cand.owner_agency if cand else ""
        row[f"cand{c + 1}_score"] = round(cand.score, 4) if cand else ""
        row[f"cand{c + 1}_fmr"] = cand.fmr_text if cand else ""
    return row


def report_rows(result) -> list[dict]:
    """Flat rows: one per face, then one per faceless or skipped file."""
    rows = [_face_row(f, result.top) for f in result.faces]
    blank = {k: "" for k in (rows[0] if rows else _face_row_keys(result.top))}
    rows += [{**blank, "source": s, "status": "no face found"} for s in result.no_face]
    rows += [{**blank, "source": s, "status": f"skipped: {why}"} for s, why in result.skipped]
    return rows


def _face_row_keys(top: int) -> list[str]:
    keys = ["source", "status", "face", "box_x", "box_y", "box_w", "box_h", "detection_score", "quality", "cluster"]
    for c in range(1, top + 1):
        keys += [f"cand{c}_ref", f"cand{c}_agency", f"cand{c}_score", f"cand{c}_fmr"]
    return keys


def _json(result) -> dict:
    return {
        "files": result.files, "gallery_size": result.gallery_size, "threshold": result.threshold, "top": result.top,
        "faces": [{"source": f.source, "face": f.face_index, "box": [round(float(v), 1) for v in f.template.box],
                   "detection_score": round(f.template.detection_score, 4), "below_quality_floor": list(f.below_floor),
                   "cluster": f.cluster if f.cluster > 0 else None,
                   "candidates": [{"rank": c.rank, "record_id": c.record_id, "external_ref": c.external_ref,
                                   "owner_agency": c.owner_agency, "restricted": c.restricted,
                                   "score": round(c.score, 5), "fmr": c.fmr, "fmr_is_upper_bound": c.fmr_is_bound}
                                  for c in f.candidates]}
                  for f in result.faces],
        "no_face_found": result.no_face,
        "skipped": [{"source": s, "reason": r} for s, r in result.skipped],
        "clusters": [{"cluster": i + 1, "faces": [{"source": result.faces[p].source, "face": result.faces[p].face_index}
                                                  for p in g]} for i, g in enumerate(result.clusters)],
    }


def _jpeg_data_uri(crop) -> str:
    """The crop as a base64 JPEG (quality 90: about 5 kB a face, a quarter of a PNG)."""
    import cv2

    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def _html(result) -> str:
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>biomatch face probe</title><style>",
           "body{font-family:sans-serif;margin:1em} table{border-collapse:collapse} td,th{border:1px solid #ccc;"
           "padding:4px;vertical-align:top} .low{background:#fff3cd} .hit{font-weight:bold} img{width:112px}",
           "</style></head><body><h1>Face probe report</h1>",
           f"<p>{result.files} files, {len(result.faces)} faces, {len(result.no_face)} without a face, "
           f"{len(result.skipped)} skipped; gallery of {result.gallery_size} faces; threshold "
           f"{'none (top ' + str(result.top) + ')' if result.threshold is None else f'{result.threshold:.3f}'}.</p>"]
    if result.clusters:
        out.append("<h2>Same person across images</h2><ul>")
        for i, g in enumerate(result.clusters, start=1):
            names = ", ".join(e(f"{Path(result.faces[p].source).name}#{result.faces[p].face_index}") for p in g)
            out.append(f"<li>group {i}: {names}</li>")
        out.append("</ul>")
    out.append("<h2>Faces</h2><table><tr><th>probe face</th><th>source</th><th>candidates</th></tr>")
    for f in result.faces:
        img = f"<img src='{_jpeg_data_uri(f.crop)}' alt='face crop'>" if f.crop is not None else ""
        cands = "".join(f"<li>{c.rank}. {e(c.external_ref)} ({e(c.owner_agency)}) score {c.score:.3f}, "
                        f"FMR {e(c.fmr_text)}</li>" for c in f.candidates) or "<li>no candidate</li>"
        flag = f"<br>below quality floor: {e('; '.join(f.below_floor))}" if f.below_floor else ""
        group = f"<br>group {f.cluster}" if f.cluster > 0 else ""
        out.append(f"<tr class='{'low' if f.below_floor else ''}'><td>{img}</td><td>{e(f.source)}<br>face "
                   f"{f.face_index} box {[round(float(v)) for v in f.template.box]}{flag}{group}</td>"
                   f"<td><ol style='list-style:none;padding:0'>{cands}</ol></td></tr>")
    out.append("</table>")
    if result.no_face or result.skipped:
        out.append("<h2>Files without a usable face</h2><ul>")
        out += [f"<li>{e(s)}: no face found</li>" for s in result.no_face]
        out += [f"<li>{e(s)}: skipped ({e(r)})</li>" for s, r in result.skipped]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def render_report(result, fmt: str) -> bytes:
    """The report as bytes in ``fmt`` (``.csv``, ``.json`` or ``.html``)."""
    if fmt == ".csv":
        rows = report_rows(result)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else _face_row_keys(result.top))
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue().encode()
    if fmt == ".json":
        return (json.dumps(_json(result), indent=1) + "\n").encode()
    if fmt in (".html", ".htm"):
        return _html(result).encode()
    raise ValueError(f"report format must be one of {', '.join(REPORT_FORMATS)}, got {fmt!r}")


def write_report(result, path: str | Path) -> None:
    """Write the report atomically; the format follows the file suffix."""
    from biomatch.index.derived import write_atomic

    path = Path(path)
    write_atomic(path, render_report(result, path.suffix.lower()))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # a report for people to open, not a private temp file
