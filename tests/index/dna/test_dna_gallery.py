"""Store-backed DNA gallery: one transaction per import, nothing stored on error, rebuild and reload."""
import numpy as np
import pytest

from biomatch.benchmarks.datasets import data_root
from biomatch.extractors.dna import ProfileError, StrProfile, load_population_tables, read_genotype_table
from biomatch.index.dna.flow import familial_gallery, search_gallery
from biomatch.index.dna.gallery import DnaGallery
from biomatch.index.store import DuplicateRefError, Store

DNA = data_root() / "dna"


@pytest.fixture(scope="module")
def nist():
    return read_genotype_table(DNA / "nist1036_genotypes.csv", agency="NIST")[0]


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}", home=tmp_path)
    yield s
    s.close()


def test_import_search_reload_delete(store, nist):
    gallery = DnaGallery.open(store)
    ids = gallery.enrol(nist[:300])
    assert len(ids) == 300 and len(gallery) == 300 and store.count("dna") == 300
    probe = StrProfile("CS1", {k: nist[5].loci[k] for k in list(nist[5].loci)[:10]}, category="forensic_unknown")
    (reports,) = search_gallery(gallery, [probe], rule="moderate",
                                tables=load_population_tables(DNA / "str_allele_frequencies.csv"))
    assert reports[0].specimen_id == nist[5].specimen_id and not reports[0].differed
    assert set(reports[0].rmp) == {"NIST1036/AfAm", "NIST1036/Asian", "NIST1036/Cauc", "NIST1036/Hisp"}
    assert all(0 < r < 1e-6 for r in reports[0].rmp.values()) and reports[0].statistic == "rmp"
    mixture = StrProfile("MIX", {k: tuple(set(nist[5].loci[k]) | set(nist[9].loci[k])) for k in list(nist[5].loci)[:12]},
                         category="forensic_mixture")
    (mixed,) = search_gallery(gallery, [mixture], tables=load_population_tables(DNA / "str_allele_frequencies.csv"))
    assert {r.specimen_id for r in mixed} >= {nist[5].specimen_id, nist[9].specimen_id}
    assert all(r.statistic == "cpi" and all(0 < v < 1 for v in r.rmp.values()) for r in mixed)

    # A second gallery on the same store loads the saved derived file without rebuilding.
    again = DnaGallery(store)
    again.rebuild = lambda: pytest.fail("rebuilt although the derived file was current")
    again.load()
    assert len(again) == 300
    assert search_gallery(again, [probe])[0][0].profile_id == reports[0].profile_id

    # Delete through the gallery: gone from store and search.
    assert gallery.delete_record(reports[0].record_id) == 1
    assert store.count("dna") == 299 and search_gallery(gallery, [probe])[0] == []
    # The other gallery's file is now stale: a fresh open rebuilds and agrees.
    fresh = DnaGallery.open(store)
    assert len(fresh) == 299 and search_gallery(fresh, [probe])[0] == []


def test_bad_batches_store_nothing(store, nist):
    gallery = DnaGallery.open(store)
    gallery.enrol(nist[:5])
    gen = store.generation("dna")
    bad = StrProfile(nist[7].specimen_id, {**nist[7].loci, "FGA": ("20", "21", "22")})
    with pytest.raises(ProfileError, match=r"locus 'FGA': 3 alleles on a single-source profile"):
        gallery.enrol(nist[5:7] + [bad] + nist[8:10])
    with pytest.raises(DuplicateRefError):
        gallery.enrol(nist[10:12] + nist[4:5])
    with pytest.raises(ProfileError, match="fewer than the minimum"):
        gallery.enrol([nist[20].restrict(["TH01", "FGA"])])
    assert store.count("dna") == 5 and store.generation("dna") == gen and len(gallery) == 5


def test_restricted_profiles_and_familial(store, nist):
    gallery = DnaGallery.open(store)
    gallery.enrol(nist[:50], agency="NIST")
    gallery.enrol([StrProfile("SECRET", nist[60].loci, category="convicted_offender", agency="FR")], restricted=True)
    probe = StrProfile("CS", nist[60].loci, category="forensic_unknown")
    assert [r.specimen_id for r in search_gallery(gallery, [probe], rule="high")[0]] == ["SECRET"]
    assert search_gallery(gallery, [probe], rule="high", requester_agency="NIST")[0] == []
    assert [r.specimen_id for r in search_gallery(gallery, [probe], rule="high", requester_agency="FR")[0]] == ["SECRET"]
    pops = load_population_tables(DNA / "str_allele_frequencies.csv")
    ranked = familial_gallery(gallery, probe, pops, relationship="parent_child", top=3, requester_agency="FR")
    assert ranked[0].specimen_id == "SECRET" and ranked[0].ibs_total == 40
    assert ranked[0].ki == min(ranked[0].ki_by_population.values())
    assert np.isclose(np.prod(list(ranked[0].ki_per_locus.values())), ranked[0].ki, rtol=1e-9)
