"""Property test: random operation sequences agree with a plain-Python model of the store (SQLite)."""
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biomatch.index.store import MODALITIES, DuplicateRefError, NotFoundError, Store

REFS = st.sampled_from(["A", "B", "C", "D"])
OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(MODALITIES), REFS, st.integers(0, 3)),
    st.tuples(st.just("bulk"), st.sampled_from(MODALITIES), st.lists(REFS, min_size=1, max_size=3)),
    st.tuples(st.just("delete"), REFS),
    st.tuples(st.just("drop_templates"), REFS),
    st.tuples(st.just("failing"), st.sampled_from(MODALITIES), REFS),
), max_size=12)


def _template(modality, n):
    data = f"{modality}-{n}".encode()
    return {"fingerprint": (1 + n % 10, "plain", data, 1), "face": (data, "sface", 1),
            "dna": (f"S{n}", "arrestee", data, 1)}[modality]


def _apply(store, model, gens, op):
    """Run ``op`` on the store and the model; return True when the store changed."""
    kind = op[0]
    if kind in ("add", "failing"):
        _, modality, ref, count = op if kind == "add" else (*op, 2)
        if (modality, ref) in model:
            try:
                store.add_record(modality, ref, "FR")
            except DuplicateRefError:
                return False
            raise AssertionError("duplicate accepted")
        try:
            with store.transaction():
                rid = store.add_record(modality, ref, "FR")
                for n in range(count):
                    getattr(store, {"fingerprint": "add_fingerprint", "face": "add_face",
                                    "dna": "add_dna_profile"}[modality])(rid, *_template(modality, n))
                if kind == "failing":
                    store.add_record(modality, "", "FR")  # bad: the whole transaction rolls back
        except ValueError:
            assert kind == "failing"
            return False
        model[(modality, ref)] = (rid, [_template(modality, n)[2 if modality != "face" else 0] for n in range(count)])
        gens[modality] += 1
        return True
    if kind == "bulk":
        _, modality, refs = op
        fresh = len(set(refs)) == len(refs) and not any((modality, r) in model for r in refs)
        try:
            ids = store.enrol_many(modality, [(r, "FR", False, [_template(modality, 0)]) for r in refs])
        except DuplicateRefError:
            assert not fresh
            return False
        assert fresh
        for r, rid in zip(refs, ids):
            model[(modality, r)] = (rid, [_template(modality, 0)[2 if modality != "face" else 0]])
        gens[modality] += 1
        return True
    _, ref = op
    hits = [(key, value) for key, value in model.items() if key[1] == ref]
    if not hits:
        return False
    (modality, _), (rid, templates) = hits[0]
    if kind == "delete":
        store.delete_record(rid)
        del model[(modality, ref)]
    else:
        assert store.delete_templates(rid) == len(templates)
        model[(modality, ref)] = (rid, [])
    gens[modality] += 1
    return True


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_store_agrees_with_model(ops):
    with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/m.db") as store:
        model, gens = {}, dict.fromkeys(MODALITIES, 0)
        for op in ops:
            _apply(store, model, gens, op)
            assert {m: store.generation(m) for m in MODALITIES} == gens
        for modality in MODALITIES:
            expected = sorted((rid, data) for (m, _), (rid, datas) in model.items() if m == modality for data in datas)
            assert sorted((t.record_id, t.data) for t in store.iter_templates(modality)) == expected
            assert sorted(r.external_ref for r in store.list_records(modality)) == \
                sorted(ref for (m, ref) in model if m == modality)
        for (modality, ref), (rid, _) in model.items():
            assert store.find_record(modality, ref).id == rid
        try:
            store.get_record(10**6)
            raise AssertionError("unknown id found")
        except NotFoundError:
            pass
