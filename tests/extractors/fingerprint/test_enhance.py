"""The enhancement's filter bank against its formula, evaluated directly for each block."""
import numpy as np
import scipy.fft as sfft

from biomatch.extractors.fingerprint.enhance import block_filters


def _direct(size, normal_rad, period_px, sigma_r, sigma_phi, angle_bins=128):
    fy = sfft.fftfreq(size).astype(np.float32)[:, None]
    fx = sfft.rfftfreq(size).astype(np.float32)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    phi = np.arctan2(fy, fx)
    radial = np.exp(-0.5 * (radius - 1.0 / period_px) ** 2 / sigma_r ** 2)
    radial[0, 0] = 0.0
    out = []
    for theta in normal_rad:
        b = int(np.floor(np.mod(theta, np.pi) * (angle_bins / np.pi))) % angle_bins
        centre = np.float32((b + 0.5) * (np.pi / angle_bins))
        dphi = np.mod(phi - centre + np.pi / 2, np.pi) - np.pi / 2
        out.append((radial * np.exp((-0.5 / sigma_phi ** 2) * dphi * dphi)).astype(np.float32))
    return np.stack(out)


def test_filter_bank_equals_the_formula_block_by_block():
    rng = np.random.default_rng(1)
    normals = np.concatenate([rng.uniform(-4, 4, 40), [0.0, np.pi, np.pi / 2, -1e-7, 2 * np.pi - 1e-7]])
    for period, sigma_phi in ((9.0, 0.29), (6.5, 0.2)):
        sigma_r = 1.0 / (2 * np.pi * 0.45 * period)
        got = block_filters(32, normals, period, sigma_r, sigma_phi)
        assert got.dtype == np.float32 and got.shape == (normals.size, 32, 17)
        np.testing.assert_array_equal(got, _direct(32, normals, period, sigma_r, sigma_phi))
    assert got[:, 0, 0].max() == 0.0  # no DC
