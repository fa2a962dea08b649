"""TP->TP on a gallery small enough to be searched exhaustively: every record is re-scored."""
from __future__ import annotations

from biomatch.index.fingerprint.gallery import FingerIndex
from biomatch.index.fingerprint.tenprint import search_records
from biomatch.matcher.fingerprint import prepare

SETS = ("fvc2002_db1_b", "fvc2002_db2_b", "fvc2002_db3_b")
DPI = {"fvc2002_db2_b": 569}


def test_every_record_of_a_small_gallery_is_searched(fvc_template):
    # 30 one-finger records (more than the record shortlist's floor of 20), in enrolment order
    fingers = [(s, f) for s in SETS for f in range(101, 111)]
    index = FingerIndex()
    for r, (s, f) in enumerate(fingers):
        index.add(r, 1000 + r, 1, prepare(fvc_template(s, f"{f}_1", DPI.get(s, 500))))
    for r in (0, 14, 29):  # the last records enrolled too
        s, f = fingers[r]
        found, comparisons = search_records(index, {1: prepare(fvc_template(s, f"{f}_2", DPI.get(s, 500)))})
        assert comparisons == len(fingers)
        best = max(found, key=lambda o: found[o][1].score)
        assert best == 1000 + r
