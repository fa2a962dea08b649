"""Cached Numba kernels that inline kernels of other files carry a stamp of those files' sources.

Numba's on-disk cache only notices changes to the file defining a function:
a cached caller would otherwise keep an old callee after an edit, and score
with stale code. When this test fails, paste the new stamp it prints into
the module: that edit invalidates the module's cached code.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import biomatch.matcher.fingerprint as pkg
from biomatch.matcher.fingerprint import _batch, _kernels, _pairing, _relaxation

ROOT = Path(pkg.__file__).parent

DEPENDS = {
    _batch: ("_kernels.py", "_pairing.py", "_popcount.py", "_relaxation.py"),
    _kernels: ("_popcount.py",),
    _pairing: ("_kernels.py", "_popcount.py"),
    _relaxation: ("_kernels.py", "_popcount.py"),
}
KERNEL_FILES = ("_kernels.py", "_pairing.py", "_popcount.py", "_relaxation.py")


def _stamp(names) -> str:
    h = hashlib.sha256()
    for name in names:
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("module", list(DEPENDS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_kernel_sources_stamp_is_current(module):
    want = _stamp(DEPENDS[module])
    assert module.KERNEL_SOURCES_STAMP == want, (
        f"{module.__name__} inlines kernels that changed: set KERNEL_SOURCES_STAMP = \"{want}\" in it "
        "(so Numba recompiles its cached functions)")


def test_every_cross_module_kernel_import_is_stamped():
    # a module importing kernels or intrinsics from a sibling file must be listed above, with that file
    for path in ROOT.glob("_*.py"):
        text = path.read_text()
        imported = {dep for dep in KERNEL_FILES if f"from .{dep[:-3]} import" in text}
        if imported and "@njit(cache=True" in text:
            stamped = [deps for m, deps in DEPENDS.items() if Path(m.__file__).name == path.name]
            assert stamped, f"{path.name} needs a stamp"
            assert imported <= set(stamped[0]), f"{path.name}: the stamp must cover {sorted(imported)}"
