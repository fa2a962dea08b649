"""Fingerprint extraction: images to :class:`FingerprintTemplate`."""
from .extract import extract_fingerprint
from .params import DEFAULT_PARAMS, EXTRACTOR_VERSION, LATENT_PARAMS, WORKING_DPI, ExtractorParams, detector_params
from .template import TEMPLATE_VERSION, FingerprintTemplate, MinutiaeSource, MinutiaKind, TemplateVersionError

__all__ = [
    "extract_fingerprint",
    "ExtractorParams",
    "DEFAULT_PARAMS",
    "LATENT_PARAMS",
    "EXTRACTOR_VERSION",
    "WORKING_DPI",
    "FingerprintTemplate",
    "MinutiaKind",
    "MinutiaeSource",
    "detector_params",
    "TemplateVersionError",
    "TEMPLATE_VERSION",
]
