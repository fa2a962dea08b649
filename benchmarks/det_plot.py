"""DET curves on normal-deviate (probit) axes, FMR on x and FNMR on y (ISO/IEC 19795-1)."""
from __future__ import annotations

import os

import numpy as np
from scipy.stats import norm

from .metrics import det_points

__all__ = ["plot_det"]

_TICKS = [1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5]


def plot_det(report: dict, path: str | os.PathLike, *, impostors: str = "impostor_all_scores") -> None:
    """Draw one DET curve per set of an FVC report into a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    lo = norm.ppf(5e-5)
    for name, s in report["sets"].items():
        fmr, fnmr, _ = det_points(np.array(s["genuine_scores"]), np.array(s[impostors]))
        x = norm.ppf(np.clip(fmr, 5e-5, 1 - 1e-9))
        y = norm.ppf(np.clip(fnmr, 5e-5, 1 - 1e-9))
        ax.plot(x, y, label=f"{name} (EER {100 * s['eer_all_pairs']:.2f}%)")
    ticks = norm.ppf(_TICKS)
    labels = [f"{100 * t:g}%" for t in _TICKS]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlim(lo, norm.ppf(0.5))
    ax.set_ylim(lo, norm.ppf(0.5))
    ax.plot([lo, 0], [lo, 0], color="grey", lw=0.5, ls=":")
    ax.set_xlabel("FMR (false match rate)")
    ax.set_ylabel("FNMR (false non-match rate)")
    ax.set_title("DET, FVC protocol (all-pairs impostors)")
    ax.grid(True, lw=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
