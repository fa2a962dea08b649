"""Bounded load test of the HTTP service: 32 concurrent clients on loopback, searches mixed with enrolments.

Run::

    python -m biomatch.benchmarks.load --seconds 20 --json out/load.json [--clients 32] [--enrol-fraction 0.3]

It starts ``biomatch serve`` in a subprocess on a free 127.0.0.1 port with a
throw-away ``BIOMATCH_HOME`` (embedded SQLite), creates one API key (roles
examiner and enroller, agency ``LOAD``) in the store before the start, seeds
the DNA gallery with the 1036 NIST SRM profiles of the shared data, then runs
``--clients`` threads for ``--seconds``. Each client keeps one keep-alive
connection and loops: with probability ``--enrol-fraction`` it enrols one
profile (a NIST genotype under a new specimen id), otherwise it searches one
NIST profile cut to 10 CODIS loci at moderate stringency. Nothing leaves the
machine.

It reports requests per second, p50/p99 latency per operation and errors
(any non-2xx answer or broken connection), and checks afterwards, in the
store, that every acknowledged enrolment is there. The exit status is 1 when
there were errors or a lost enrolment. DNA is the modality because it needs no
image decoding, so the figures measure the service path (HTTP, auth, audit,
store, index) more than a feature extractor. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["run_load"]

_AGENCY = "LOAD"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _as_json(p, specimen_id: str | None = None, loci=None) -> dict:
    keep = p.loci if loci is None else {k: v for k, v in p.loci.items() if k in loci}
    return {"specimen_id": specimen_id or p.specimen_id, "loci": {k: list(v) for k, v in keep.items()},
            "category": p.category.slug, "agency": _AGENCY}


class _Client:
    def __init__(self, port: int, token: str):
        self.port, self.headers = port, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        try:
            self.conn.request("POST", path, body=data, headers=self.headers)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            raise

    def close(self) -> None:
        self.conn.close()


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s")


def run_load(seconds: float = 20.0, clients: int = 32, enrol_fraction: float = 0.3, seed: int = 0) -> dict:
    """Start a server, run the mixed load, stop it and return the figures (see the module docstring)."""
    from biomatch.api.auth import create_key
    from biomatch.benchmarks.datasets import data_root
    from biomatch.extractors.dna import CODIS_CORE_20, read_genotype_table
    from biomatch.index.store import Store

    if not 1 <= seconds <= 600:
        raise ValueError(f"--seconds must be between 1 and 600, got {seconds}")
    if not 1 <= clients <= 256:
        raise ValueError(f"--clients must be between 1 and 256, got {clients}")
    if not 0.0 <= enrol_fraction <= 1.0:
        raise ValueError(f"--enrol-fraction must be between 0 and 1, got {enrol_fraction}")
    nist = read_genotype_table(data_root() / "dna" / "nist1036_genotypes.csv", agency=_AGENCY)[0]
    probe_loci = set(CODIS_CORE_20[:10])
    with tempfile.TemporaryDirectory(prefix="biomatch-load-") as tmp:
        home = Path(tmp) / "home"
        url = f"sqlite:///{home / 'biomatch.db'}"
        with Store.open(url, home=home) as store:
            token = create_key(store, _AGENCY, ["examiner", "enroller"], label="load test").token
        port = _free_port()
        env = {**os.environ, "BIOMATCH_HOME": str(home), "BIOMATCH_DATA": str(data_root())}
        env.pop("BIOMATCH_DATABASE_URL", None)
        log = open(Path(tmp) / "server.log", "w+")
        proc = subprocess.Popen([sys.executable, "-m", "biomatch.api.cli", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(port, proc)
            seeder = _Client(port, token)
            for start in range(0, len(nist), 500):
                status, body = seeder.post("/dna/profiles", {"profiles": [_as_json(p) for p in nist[start:start + 500]]})
                if status != 201:
                    raise RuntimeError(f"seeding failed with {status}: {body[:300]!r}")
            seeder.close()
            figures = _drive(port, token, nist, probe_loci, seconds, clients, enrol_fraction, seed)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            server_log = log.read()
            log.close()
        with Store.open(url, home=home) as store:
            stored = {r.external_ref for r in _all_records(store)}
        lost = sorted(set(figures.pop("acknowledged")) - stored)
        figures.update(lost_enrolments=len(lost), lost_examples=lost[:5], seeded=len(nist),
                       server_tracebacks=server_log.count("Traceback"))
        return figures


def _all_records(store):
    after = 0
    while True:
        batch = store.list_records("dna", after_id=after, limit=1000)
        yield from batch
        if len(batch) < 1000:
            return
        after = batch[-1].id


def _drive(port, token, nist, probe_loci, seconds, clients, enrol_fraction, seed) -> dict:
    latencies = {"search": [], "enrol": []}
    errors: list[str] = []
    acknowledged: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = _Client(port, token)
        n = 0
        start_gate.wait()
        try:
            while time.monotonic() < stop_at[0]:
                p = nist[rng.randrange(len(nist))]
                if rng.random() < enrol_fraction:
                    op, ref = "enrol", f"LOAD-{index}-{n}"
                    body, path = {"profiles": [_as_json(p, ref)]}, "/dna/profiles"
                else:
                    op, ref = "search", None
                    body, path = {"profiles": [_as_json(p, "PROBE", probe_loci)], "rule": "moderate"}, "/dna/search"
                n += 1
                t0 = time.perf_counter()
                try:
                    status, payload = client.post(path, body)
                except (OSError, http.client.HTTPException) as exc:
                    status, payload = -1, repr(exc).encode()
                dt = time.perf_counter() - t0
                with lock:
                    if 200 <= status < 300:
                        latencies[op].append(dt)
                        if ref:
                            acknowledged.append(ref)
                    else:
                        errors.append(f"{op} {status}: {payload[:200]!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    t0 = time.monotonic()
    start_gate.wait()
    for t in threads:
        t.join(timeout=seconds + 300)
    wall = time.monotonic() - t0
    ops = {op: {"count": len(v), "per_s": len(v) / wall,
                "p50_ms": None if not v else 1e3 * statistics.median(v),
                "p99_ms": None if not v else 1e3 * _pct(v, 0.99)} for op, v in latencies.items()}
    total = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    return {"clients": clients, "seconds": seconds, "wall_s": wall, "enrol_fraction": enrol_fraction,
            "requests": total, "requests_per_s": total / wall,
            "p50_ms": None if not every else 1e3 * statistics.median(every),
            "p99_ms": None if not every else 1e3 * _pct(every, 0.99),
            "errors": len(errors), "error_examples": errors[:5], "ops": ops, "acknowledged": acknowledged,
            "cpu_count": os.cpu_count(), "loadavg_1min": os.getloadavg()[0]}


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="duration of the load phase (default 20)")
    ap.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    ap.add_argument("--enrol-fraction", type=float, default=0.3, help="share of requests that enrol (default 0.3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    fig = run_load(args.seconds, args.clients, args.enrol_fraction, args.seed)
    print(f"{fig['clients']} clients, {fig['wall_s']:.1f} s on 127.0.0.1, {fig['seeded']} profiles seeded, "
          f"{fig['cpu_count']} CPUs, load average {fig['loadavg_1min']:.2f}")
    print(f"{'op':<8} {'count':>7} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for op, o in fig["ops"].items():
        print(f"{op:<8} {o['count']:>7} {o['per_s']:>8.1f} {_fmt(o['p50_ms']):>8} {_fmt(o['p99_ms']):>8}")
    print(f"{'all':<8} {fig['requests']:>7} {fig['requests_per_s']:>8.1f} {_fmt(fig['p50_ms']):>8} "
          f"{_fmt(fig['p99_ms']):>8}")
    print(f"errors: {fig['errors']}  lost enrolments: {fig['lost_enrolments']}  "
          f"server tracebacks: {fig['server_tracebacks']}")
    for e in fig["error_examples"]:
        print(f"  {e}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(fig, indent=2))
    return 1 if fig["errors"] or fig["lost_enrolments"] or fig["server_tracebacks"] else 0


if __name__ == "__main__":
    sys.exit(main())
