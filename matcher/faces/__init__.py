"""Face matching: cosine scores, calibration to FMR, FPIR-based 1:N thresholds."""
from .calibration import FmrCalibration, fit_fmr_table, fit_fmr_table_from_counts, fmr_for_fpir, load_calibration
from .cluster import DEFAULT_CLUSTER_FMR, cluster_faces
from .score import PreparedFace, prepare, score, score_matrix

__all__ = ["DEFAULT_CLUSTER_FMR", "cluster_faces", "FmrCalibration", "fit_fmr_table", "fit_fmr_table_from_counts", "fmr_for_fpir", "load_calibration", "PreparedFace", "prepare",
           "score", "score_matrix"]
