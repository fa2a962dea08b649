"""The bit-count intrinsics against plain Python integers."""
import numpy as np
from numba import njit

from biomatch.matcher.fingerprint._popcount import popcount64, trailing_zeros64


@njit(cache=False)
def _counts(values):
    pop = np.empty(values.shape[0], np.int64)
    tz = np.empty(values.shape[0], np.int64)
    for k in range(values.shape[0]):
        pop[k] = popcount64(values[k])
        tz[k] = trailing_zeros64(values[k]) if values[k] != 0 else -1
    return pop, tz


def test_bit_counts_match_python_integers():
    rng = np.random.default_rng(0)
    edge = [0, 1, 2, 3, 1 << 63, (1 << 64) - 1, 0x8000000000000001, 0x00F0000000000000]
    values = np.concatenate([np.array(edge, np.uint64), rng.integers(0, 2**64 - 1, 500, dtype=np.uint64, endpoint=True),
                             np.uint64(1) << np.arange(64, dtype=np.uint64)])
    pop, tz = _counts(values)
    ints = [int(v) for v in values]
    assert pop.tolist() == [v.bit_count() for v in ints]
    assert tz.tolist() == [((v & -v).bit_length() - 1) if v else -1 for v in ints]
