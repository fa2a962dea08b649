"""Store throughput on both backends: tenprint enrolment, bulk enrolment, index rebuild scan, audit.

Run::

    python -m biomatch.benchmarks.store --json store.json [--tenprints 300] [--bulk 20000]

PostgreSQL is measured on a throw-away local server started with the
``pgserver`` package (test extra) when it is installed; otherwise that
section is left out and says why. Templates are random bytes of realistic
size (``--template-bytes``, default 4096 for a finger); the store never looks
inside them, so their content does not matter. Figures are medians and p95
of per-operation wall times, or totals divided by counts.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from biomatch.index.store import Store

__all__ = ["run_store_benchmark"]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _tenprints(store: Store, n: int, size: int) -> dict:
    times = []
    for i in range(n):
        fingers = [(pos, "rolled", os.urandom(size), 1, None) for pos in range(1, 11)]
        t0 = time.perf_counter()
        with store.transaction():
            rid = store.add_record("fingerprint", f"TP-{i}", "FR")
            store.add_fingerprints(rid, fingers)
        times.append(time.perf_counter() - t0)
    return {"count": n, "ms_median": 1e3 * statistics.median(times), "ms_p95": 1e3 * _p95(times),
            "tenprints_per_s": n / sum(times)}


def _bulk(store: Store, n: int) -> dict:
    entries = [(f"S-{i}", "UK", False, [(f"SPEC-{i}", "convicted offender", os.urandom(48), 1)]) for i in range(n)]
    t0 = time.perf_counter()
    store.enrol_many("dna", entries)
    seconds = time.perf_counter() - t0
    return {"count": n, "seconds": seconds, "profiles_per_s": n / seconds}


def _scan(store: Store) -> dict:
    t0 = time.perf_counter()
    count = nbytes = 0
    for rows in store.iter_template_rows("fingerprint", batch=5000):
        count += len(rows)
        nbytes += sum(len(r["data"]) for r in rows)
    seconds = time.perf_counter() - t0
    return {"templates": count, "seconds": seconds, "templates_per_s": count / seconds, "mb_per_s": nbytes / seconds / 1e6}


def _audit(store: Store, n: int) -> dict:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        store.append_audit("bench", "FR", "fingerprint.search", route="/bench", result_ids=list(range(20)),
                           counts={"candidates": 20})
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    broken = store.verify_audit()
    verify = time.perf_counter() - t0
    return {"count": n, "append_ms_median": 1e3 * statistics.median(times), "append_ms_p95": 1e3 * _p95(times),
            "verify_s": verify, "chain_ok": broken is None}


def _measure(url: str, home: Path, args) -> dict:
    with Store.open(url, home=home) as store:
        return {"tenprint_enrol": _tenprints(store, args.tenprints, args.template_bytes),
                "bulk_enrol_dna": _bulk(store, args.bulk),
                "rebuild_scan": _scan(store),
                "audit": _audit(store, args.audit)}


def _postgres(workdir: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
            pgdata = Path(tempfile.mkdtemp(prefix="biomatch-bench-pg-"))
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # not installed or cannot start here
        return None, None, f"{type(exc).__name__}: {exc}"
    from sqlalchemy.engine import make_url
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return server, pgdata, url


def run_store_benchmark(args) -> dict:
    """Run every section on SQLite, then on PostgreSQL when available; print a table, return the results."""
    results = {"params": {"tenprints": args.tenprints, "bulk": args.bulk, "audit": args.audit,
                          "template_bytes": args.template_bytes}}
    with tempfile.TemporaryDirectory(prefix="biomatch-bench-") as tmp:
        tmp = Path(tmp)
        results["sqlite"] = _measure(f"sqlite:///{tmp / 'bench.db'}", tmp, args)
        server, pgdata, url_or_error = _postgres(tmp)
        if server is None:
            results["postgresql"] = {"skipped": url_or_error}
        else:
            try:
                results["postgresql"] = _measure(url_or_error, tmp, args)
            finally:
                server.cleanup()
                shutil.rmtree(pgdata, ignore_errors=True)
    _print(results)
    return results


def _print(results: dict) -> None:
    rows = [("tenprint enrol, median ms", "tenprint_enrol", "ms_median"),
            ("tenprint enrol, p95 ms", "tenprint_enrol", "ms_p95"),
            ("tenprints / s (one txn each)", "tenprint_enrol", "tenprints_per_s"),
            ("bulk DNA enrol, profiles / s", "bulk_enrol_dna", "profiles_per_s"),
            ("rebuild scan, templates / s", "rebuild_scan", "templates_per_s"),
            ("rebuild scan, MB / s", "rebuild_scan", "mb_per_s"),
            ("audit append, median ms", "audit", "append_ms_median"),
            ("audit verify, s", "audit", "verify_s")]
    print(f"{'figure':34s} {'sqlite':>12s} {'postgresql':>12s}")
    for label, section, key in rows:
        cells = []
        for backend in ("sqlite", "postgresql"):
            value = results[backend].get(section, {}).get(key) if "skipped" not in results[backend] else None
            cells.append(f"{value:12.2f}" if value is not None else f"{'-':>12s}")
        print(f"{label:34s} {cells[0]} {cells[1]}")
    if "skipped" in results["postgresql"]:
        print(f"postgresql skipped: {results['postgresql']['skipped']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m biomatch.benchmarks.store", description=__doc__.split("\n")[0])
    p.add_argument("--json", required=True, dest="json_out", help="write results here")
    p.add_argument("--tenprints", type=int, default=300, help="tenprints enrolled one transaction each")
    p.add_argument("--bulk", type=int, default=20_000, help="DNA records enrolled in one enrol_many call")
    p.add_argument("--audit", type=int, default=1000, help="audit entries appended")
    p.add_argument("--template-bytes", type=int, default=4096, help="bytes per finger template")
    args = p.parse_args(argv)
    for name in ("tenprints", "bulk", "audit", "template_bytes"):
        if not 1 <= getattr(args, name) <= 10_000_000:
            p.error(f"--{name.replace('_', '-')} must be between 1 and 10000000")
    results = run_store_benchmark(args)
    Path(args.json_out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
