"""Checked column values of template rows, shared by the single and bulk write paths."""
from __future__ import annotations

from . import _checks
from .schema import IMPRESSIONS, REF_LEN, dna_profiles, faces, fingerprints

__all__ = ["fingerprint_values", "face_values", "dna_values", "TEMPLATE_WRITERS"]


def fingerprint_values(position, impression, template_bytes, template_version, image_sha256=None) -> dict:
    """Checked column values of one ``fingerprints`` row (record id aside)."""
    return dict(
        position=_checks.integer("finger position", position, 0, 10),
        impression=_checks.choice("impression", impression, IMPRESSIONS),
        template=_checks.blob("template", template_bytes),
        template_version=_checks.version("template_version", template_version),
        image_sha256=_checks.sha256_hex("image_sha256", image_sha256),
    )


def face_values(template_bytes, model_id, template_version, image_sha256=None) -> dict:
    """Checked column values of one ``faces`` row (record id aside)."""
    return dict(
        template=_checks.blob("template", template_bytes),
        model_id=_checks.text("model_id", model_id, 64),
        template_version=_checks.version("template_version", template_version),
        image_sha256=_checks.sha256_hex("image_sha256", image_sha256),
    )


def dna_values(specimen_id, category, profile_bytes, profile_version) -> dict:
    """Checked column values of one ``dna_profiles`` row (record id aside)."""
    return dict(
        specimen_id=_checks.text("specimen_id", specimen_id, REF_LEN),
        category=_checks.text("category", category, 64),
        profile=_checks.blob("profile", profile_bytes),
        profile_version=_checks.version("profile_version", profile_version),
    )


#: Template table and value checker per modality (used by the bulk path too).
TEMPLATE_WRITERS = {
    "fingerprint": (fingerprints, fingerprint_values),
    "face": (faces, face_values),
    "dna": (dna_profiles, dna_values),
}
