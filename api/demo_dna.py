"""The DNA part of ``biomatch demo``: import NIST 1036, search a degraded partial, print the hit with its RMP."""
from __future__ import annotations

import tempfile
import time

__all__ = ["run_demo"]

#: The genotype whose degraded copy is searched, and the loci kept (as a partial crime-scene profile).
DEMO_SPECIMEN_INDEX = 123
DEMO_LOCI = ("D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA", "D16S539", "D2S1338", "D19S433")
DEMO_DROPPED = ("D8S1179", "FGA")  # loci where the partial lost one allele (drop-out)


def run_demo(args) -> None:
    from ..benchmarks.datasets import data_root
    from ..extractors.dna import StrProfile, load_population_tables, read_genotype_table
    from ..index.dna.flow import search_gallery
    from ..index.dna.gallery import DnaGallery
    from ..index.store import Store

    folder = data_root(getattr(args, "data", None)) / "dna"
    if not (folder / "nist1036_genotypes.csv").is_file():
        raise ValueError(f"{folder}: shared DNA data not found (set BIOMATCH_DATA or --data)")
    profiles, _ = read_genotype_table(folder / "nist1036_genotypes.csv", agency="NIST")
    tables = load_population_tables(folder / "str_allele_frequencies.csv", "NIST1036")
    with tempfile.TemporaryDirectory(prefix="biomatch-dna-demo-") as tmp:
        with Store.open(f"sqlite:///{tmp}/demo.db", home=tmp) as store:
            gallery = DnaGallery.open(store)
            t0 = time.perf_counter()
            gallery.enrol(profiles)
            print(f"Imported {len(gallery)} NIST 1036 genotypes (29 STRs each, CODIS 20 searched) "
                  f"into a temporary store in {time.perf_counter() - t0:.2f} s")
            source = profiles[DEMO_SPECIMEN_INDEX]
            loci = {k: source.loci[k] for k in DEMO_LOCI}
            for k in DEMO_DROPPED:
                loci[k] = loci[k][:1]
            probe = StrProfile("CRIME-SCENE-1", loci, category="forensic_unknown")
            shown = "; ".join(f"{k} {','.join(v)}" for k, v in probe.loci.items())
            print(f"Crime-scene partial: {len(probe.loci)} of 29 loci, one allele lost at {', '.join(DEMO_DROPPED)}:")
            print(f"  {shown}")
            for rule in ("high", "moderate"):
                t0 = time.perf_counter()
                (reports,) = search_gallery(gallery, [probe], rule=rule, tables=tables, min_loci=8)
                ms = (time.perf_counter() - t0) * 1000
                print(f"{rule.capitalize()} stringency: {len(reports)} candidate(s) in {ms:.1f} ms")
                for r in reports:
                    print(f"  HIT {r.specimen_id} ({r.category}, {r.agency}): {r.n_compared} loci compared, "
                          f"all consistent" if not r.differed else f"  {r.specimen_id}: differs at {r.differed}")
                    for name in sorted(r.rmp):
                        print(f"    RMP {name:<15} {r.rmp[name]:.3g}   LR {r.lr[name]:.3g}")
                    print(f"    (NRC II 4.10, theta 0.01, floor 5/2N, on the {len(r.matched)} matched loci; "
                          f"2p rule at {', '.join(DEMO_DROPPED)} where an allele dropped out)")
            if source.specimen_id not in [r.specimen_id for r in reports]:
                raise RuntimeError("the degraded partial did not find its source")  # pragma: no cover
