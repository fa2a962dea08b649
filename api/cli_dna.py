"""``biomatch dna import|search|stats|kinship``: STR profiles against the store.

Translation only: files are read by :mod:`biomatch.extractors.dna`, searches
run through :mod:`biomatch.index.dna`, statistics come from
:mod:`biomatch.matcher.dna`.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["register", "read_profiles", "load_tables", "open_gallery"]

_FORMATS = ("auto", "csv", "cmf", "genotypes")


def register(sub) -> None:
    dna = sub.add_parser("dna", help="STR DNA profiles: import, search, statistics, kinship")
    cmds = dna.add_subparsers(dest="dna_command", metavar="ACTION")
    cmds.required = True

    imp = cmds.add_parser("import", help="validate and store profiles (one transaction; nothing stored on error)")
    _profile_args(imp)
    imp.add_argument("--restricted", action="store_true", help="searchable by the owner agency only")
    _store_args(imp)
    imp.set_defaults(func=_import)

    se = cmds.add_parser("search", help="search profiles from a file against the store")
    _profile_args(se, default_category="forensic_unknown")
    se.add_argument("--stringency", default="moderate", choices=["high", "moderate", "low", "prum"],
                    help="CODIS stringency, or prum for the Prüm full/near-match rules (default moderate)")
    se.add_argument("--limit", type=int, default=20, help="candidates reported per probe (default 20)")
    se.add_argument("--min-loci", type=int, help="fewest compared loci (default 8; Prüm: 6 fully designated)")
    se.add_argument("--categories", help="comma-separated candidate categories (default: the search matrix)")
    se.add_argument("--agencies", help="comma-separated owner agencies to search (default all)")
    _table_args(se)
    _store_args(se)
    se.add_argument("--json", dest="json_out", help="also write the reports here")
    se.set_defaults(func=_search)

    st = cmds.add_parser("stats", help="random match probability and LR per population of profiles in a file")
    _profile_args(st, default_category="forensic_unknown")
    st.add_argument("--method", default="nrc4.10", choices=["hw", "nrc4.1", "nrc4.10"])
    st.add_argument("--theta", type=float, default=0.01, help="coancestry for NRC II 4.1 / 4.10 (default 0.01)")
    st.add_argument("--loci", help="locus set (codis20, ess12, prum7, codis13) or comma-separated loci")
    _table_args(st)
    st.add_argument("--json", dest="json_out", help="also write the results here")
    st.set_defaults(func=_stats)

    ki = cmds.add_parser("kinship", help="familial search in the store, or pairwise kinship with --against")
    _profile_args(ki, default_category="forensic_unknown")
    ki.add_argument("--relationship", default="full_sib", choices=["parent_child", "full_sib", "half_sib"])
    ki.add_argument("--top", type=int, default=20, help="candidates listed (default 20)")
    ki.add_argument("--min-ki", type=float, default=0.0, help="only candidates with minimum KI >= this")
    ki.add_argument("--against", help="profile file: pairwise kinship instead of a database search")
    _table_args(ki)
    _store_args(ki)
    ki.add_argument("--json", dest="json_out", help="also write the results here")
    ki.set_defaults(func=_kinship)


def _profile_args(p, default_category: str = "convicted_offender") -> None:
    p.add_argument("file", help="GeneMapper-style CSV, CODIS CMF XML, or a long genotype table")
    p.add_argument("--format", default="auto", choices=_FORMATS, help="input format (default: from the content)")
    p.add_argument("--category", default=default_category, help=f"category when the file names none ({default_category})")
    p.add_argument("--agency", default="", help="owner agency when the file names none")
    p.add_argument("--wildcards", action="store_true", help="Prüm wildcards: non-numeric values and 0/1/99 match anything")
    p.add_argument("--min-profile-loci", type=int, default=None, help="fewest typed loci a profile needs (default 8)")


def _store_args(p) -> None:
    p.add_argument("--database-url", help="SQLAlchemy URL (default $BIOMATCH_DATABASE_URL or sqlite under $BIOMATCH_HOME)")


def _table_args(p) -> None:
    p.add_argument("--frequencies", help="frequency CSV (default: the shared dna/str_allele_frequencies.csv)")
    p.add_argument("--source", default="NIST1036", help="source in the CSV whose populations are used (default NIST1036)")
    p.add_argument("--familias", action="append", default=[], help="Familias/norSTR frequency file (repeatable)")
    p.add_argument("--data", help="data folder (default: $BIOMATCH_DATA or ../shared/data)")


def read_profiles(args):
    """Profiles of ``args.file`` in the chosen (or sniffed) format."""
    from biomatch.extractors.dna import ProfileRules, parse_cmf, parse_genemapper_csv, read_genotype_table

    path = Path(args.file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    rules = ProfileRules(min_loci=args.min_profile_loci) if args.min_profile_loci else None
    head = path.read_bytes()[:4096].lstrip()
    fmt = args.format
    if fmt == "auto":
        fmt = "cmf" if head.startswith(b"<") else ("genotypes" if b"allele1" in head.split(b"\n")[0] else "csv")
    if fmt == "cmf":
        return parse_cmf(path.read_bytes(), wildcards=args.wildcards, rules=rules, agency=args.agency)
    if fmt == "genotypes":
        return read_genotype_table(path, category=args.category, agency=args.agency, rules=rules)[0]
    return parse_genemapper_csv(path.read_text(encoding="utf-8-sig"), category=args.category, agency=args.agency,
                                wildcards=args.wildcards, rules=rules)


def load_tables(args) -> dict:
    """Population tables: every population of ``--source`` (pooled ``All`` left out), plus ``--familias`` files."""
    from biomatch.benchmarks.datasets import data_root
    from biomatch.extractors.dna import load_population_tables, read_familias

    path = Path(args.frequencies) if args.frequencies else data_root(args.data) / "dna" / "str_allele_frequencies.csv"
    tables = load_population_tables(path, args.source) if args.source else {}
    for f in args.familias:
        t = read_familias(f)
        tables[t.name] = t
    if not tables:
        raise ValueError("no frequency tables (give --source or --familias)")
    return tables


def open_gallery(args):
    from biomatch.api.settings import Settings
    from biomatch.index.dna.gallery import DnaGallery
    from biomatch.index.store import Store

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    store = Store.open(settings.resolved_database_url(), home=settings.home)
    return store, DnaGallery.open(store)


def _write_json(path, payload) -> None:
    if not path:
        return
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=2, default=list)
    os.replace(tmp, path)


def _import(args) -> int:
    profiles = read_profiles(args)
    store, gallery = open_gallery(args)
    with store:
        ids = gallery.enrol(profiles, agency=args.agency, restricted=args.restricted)
        print(f"imported {len(ids)} profiles from {args.file} (profile ids {min(ids)}..{max(ids)}); "
              f"{len(gallery)} DNA profiles searchable")
    return 0


def _split(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _search(args) -> int:
    from biomatch.index.dna.flow import search_gallery

    probes = read_profiles(args)
    tables = load_tables(args)
    store, gallery = open_gallery(args)
    with store:
        results = search_gallery(gallery, probes, rule=args.stringency, categories=_split(args.categories),
                                 agencies=_split(args.agencies), limit=args.limit, tables=tables,
                                 min_loci=args.min_loci)
    for probe, reports in zip(probes, results):
        print(f"{probe.specimen_id}: {len(reports)} candidate(s) at {args.stringency} stringency "
              f"({len(probe.searchable_loci)} loci typed) in {len(gallery)} profiles")
        for r in reports:
            worst = max(r.rmp.values()) if r.rmp else float("nan")
            near = f"  mismatches {r.n_mismatches}" if args.stringency == "prum" else ""
            print(f"  {r.specimen_id:<16} {r.category:<20} {r.agency:<10} compared {r.n_compared:2d}{near}"
                  f"  {r.statistic.upper()} (max over populations) {worst:.3g}")
            if r.differed:
                print(f"    differed at: {', '.join(r.differed)}")
    _write_json(args.json_out, {p.specimen_id: [r.to_dict() for r in rs] for p, rs in zip(probes, results)})
    return 0


def _stats(args) -> int:
    from biomatch.extractors.dna import KITS, StatsParams, normalise_locus
    from biomatch.matcher.dna import match_statistics

    profiles = read_profiles(args)
    tables = load_tables(args)
    if args.loci and args.loci.lower() in KITS:
        loci = KITS[args.loci.lower()]
    elif args.loci:
        loci = [normalise_locus(x) for x in _split(args.loci)]
    else:
        loci = None
    params = StatsParams(theta=args.theta)
    out = {}
    for p in profiles:
        stats = match_statistics(p, tables, method=args.method, loci=loci, params=params)
        first = next(iter(stats.values()))
        theta = "" if args.method == "hw" else f", theta {args.theta:g}"
        print(f"{p.specimen_id}: {args.method}{theta}, floor 5/2N, {len(first.loci)} loci")
        for name, s in stats.items():
            print(f"  {name:<24} RMP {s.rmp:.4g}   LR {s.lr:.4g}")
        skipped = {k: v for k, v in first.skipped.items() if k != "AMEL"}
        if skipped:
            print("  skipped: " + ", ".join(f"{k} ({v})" for k, v in skipped.items()))
        out[p.specimen_id] = {name: {"rmp": s.rmp, "lr": s.lr, "per_locus": {x.locus: x.probability for x in s.loci},
                                     "skipped": s.skipped} for name, s in stats.items()}
    _write_json(args.json_out, out)
    return 0


def _kinship(args) -> int:
    probes = read_profiles(args)
    tables = load_tables(args)
    if len(probes) != 1:
        raise ValueError(f"{args.file}: kinship takes exactly one probe profile, found {len(probes)}")
    probe = probes[0]
    if args.against:
        return _pairwise(args, probe, tables)
    from biomatch.index.dna.flow import familial_gallery

    store, gallery = open_gallery(args)
    with store:
        ranked = familial_gallery(gallery, probe, tables, relationship=args.relationship, top=args.top,
                                  min_ki=args.min_ki)
    print(f"{probe.specimen_id}: {args.relationship} familial search over {len(gallery)} profiles, "
          f"ranked by the minimum KI over {len(tables)} populations")
    for rank, r in enumerate(ranked, 1):
        print(f"  {rank:3d}. {r.specimen_id:<16} KI {r.ki:11.4g} (min: {r.min_population})  "
              f"IBS {r.ibs_total}/{2 * len(r.ibs_per_locus)}")
    _write_json(args.json_out, [r.to_dict() for r in ranked])
    return 0


def _pairwise(args, probe, tables) -> int:
    from biomatch.matcher.dna import compare_kinship

    others = read_profiles(argparse_copy(args, file=args.against))
    out = {}
    for other in others:
        results = {name: compare_kinship(probe, other, t, args.relationship) for name, t in tables.items()}
        worst = min(results, key=lambda n: results[n].combined)
        r = results[worst]
        print(f"{probe.specimen_id} ~ {other.specimen_id}: {args.relationship} KI {r.combined:.4g} "
              f"(min over populations: {worst}); IBS {r.ibs_total}/{2 * len(r.ibs)}")
        for locus, value in r.per_locus.items():
            print(f"    {locus:<10} KI {value:9.4g}  IBS {r.ibs[locus]}")
        out[other.specimen_id] = {n: {"ki": x.combined, "per_locus": x.per_locus, "ibs": x.ibs}
                                  for n, x in results.items()}
    _write_json(args.json_out, out)
    return 0


def argparse_copy(args, **changes):
    import argparse

    return argparse.Namespace(**{**vars(args), **changes})
