import numpy as np
import pytest

from biomatch.matcher.faces import cluster_faces


def _reference(x, t):
    """Connected components by repeated graph expansion (plain, slow)."""
    n = len(x)
    adj = (x @ x.T) >= t
    labels = -np.ones(n, int)
    nxt = 0
    for i in range(n):
        if labels[i] >= 0:
            continue
        frontier = {i}
        while frontier:
            j = frontier.pop()
            if labels[j] < 0:
                labels[j] = nxt
                frontier |= set(np.nonzero(adj[j])[0].tolist())
        nxt += 1
    return labels


@pytest.mark.parametrize("block", [1, 7, 2048])
def test_clusters_equal_connected_components(block):
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((6, 16))
    x = np.repeat(centres, 5, axis=0) + 0.3 * rng.standard_normal((30, 16))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    x = x[rng.permutation(30)]
    got = cluster_faces(x, 0.8, block=block)
    ref = _reference(x, 0.8)
    assert got[0] == 0
    # same partition (labels may be numbered differently)
    assert all((got[i] == got[j]) == (ref[i] == ref[j]) for i in range(30) for j in range(30))


def test_chain_is_one_group_and_limits_are_checked():
    x = np.array([[1, 0], [np.cos(0.5), np.sin(0.5)], [np.cos(1.0), np.sin(1.0)], [-1, 0]], np.float32)
    assert cluster_faces(x, np.cos(0.6)).tolist() == [0, 0, 0, 1]  # single linkage chains 0-1-2
    with pytest.raises(ValueError, match="limit"):
        cluster_faces(np.zeros((11, 2), np.float32), 0.5, max_faces=10)
