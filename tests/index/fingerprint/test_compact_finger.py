"""The compact in-memory form expands back to exactly what the matcher's prepare() gives."""
import dataclasses

import numpy as np
import pytest

from afis_helpers import SET, rotated_window
from biomatch.index.fingerprint.compact import compress, expand
from biomatch.matcher.fingerprint import prepare
from biomatch.matcher.fingerprint.params import ANY_ROTATION_PARAMS, DEFAULT_MATCHER_PARAMS


@pytest.mark.parametrize("key", ["101_1", "105_3", "mark"])
def test_expand_equals_prepare(fvc_template, key):
    t = rotated_window(fvc_template(SET, "102_2")) if key == "mark" else fvc_template(SET, key)
    for params in (DEFAULT_MATCHER_PARAMS, ANY_ROTATION_PARAMS):
        p = prepare(t, params)
        c = compress(p)
        q = expand(c, params)
        for f in dataclasses.fields(p):
            a, b = getattr(p, f.name), getattr(q, f.name)
            if f.name == "template":
                continue
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and a.shape == b.shape, f.name
                np.testing.assert_array_equal(a, b, err_msg=f.name)
            else:
                assert a == b, f.name
        # prints with an orientation field shrink the most (float64 radians -> uint8 codes)
        assert c.nbytes < (0.7 if key == "mark" else 0.45) * sum(getattr(p, f.name).nbytes for f in dataclasses.fields(p)
                                    if isinstance(getattr(p, f.name), np.ndarray))
