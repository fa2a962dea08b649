"""Deliberate thread settings for FAISS and the BLAS libraries beside it.

faiss-cpu 1.15 traps measured on the shared 2-core box:

* Query batches below ``faiss.cvar.distance_compute_blas_threshold`` (20 by
  default in old releases, 128000 in some builds) take a per-query path that
  streams the whole gallery once per query, 9-11x slower. Setting it to 0
  forces the matrix-multiply (BLAS) path for every batch size.
* With OpenMP on a shared 2-core box, two threads were up to 8x slower than
  one when the other core was busy. Thread counts are therefore an explicit
  argument, and the benchmark measures 1 and 2.
* faiss and numpy each bundle their own OpenBLAS; :func:`search_threads`
  caps every pool (OpenMP and both OpenBLAS copies) with threadpoolctl.
* The 2-thread collapse comes from OpenMP threads spin-waiting at barriers
  while the other core is busy. With ``OMP_WAIT_POLICY=PASSIVE`` they sleep
  instead: on the loaded box, 1M batched search with 2 threads went from
  56-62 ms to 7-8 ms a query (1 thread: 6-9 ms). libgomp reads the variable
  once, when the first library using it loads (scikit-learn can load the
  same libgomp before faiss), so :func:`prefer_passive_openmp` must run early:
  the face CLI commands and the benchmark call it first thing, and a service
  should be started with ``OMP_WAIT_POLICY=PASSIVE`` in its environment.
"""
from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["search_threads", "configure_faiss", "load_faiss", "prefer_passive_openmp"]


def prefer_passive_openmp() -> str:
    """Default ``OMP_WAIT_POLICY`` to ``PASSIVE`` (a user's own choice is kept); returns the policy.

    Effective only before libgomp is loaded in this process.
    """
    return os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def load_faiss():
    """``import faiss``, after :func:`prefer_passive_openmp` if faiss is not loaded yet."""
    if "faiss" not in sys.modules:
        prefer_passive_openmp()
    import faiss

    return faiss


def configure_faiss(threads: int) -> None:
    """Set FAISS's OpenMP thread count and force the BLAS distance path."""
    faiss = load_faiss()

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    faiss.cvar.distance_compute_blas_threshold = 0
    faiss.omp_set_num_threads(int(threads))


@contextlib.contextmanager
def search_threads(threads: int):
    """Context in which FAISS, OpenMP and every OpenBLAS use ``threads`` threads."""
    from threadpoolctl import threadpool_limits

    configure_faiss(threads)
    with threadpool_limits(limits=int(threads)):
        yield
