"""Checks the lax tests share: every op runs eagerly and under ``plax.jit``."""

import numpy as np
import plax
from plax import dtypes
from plax.tree_util import tree_leaves


def comparable(x) -> np.ndarray:
    """numpy's testing helpers mishandle bfloat16 NaNs; compare bfloat16 as float32."""
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype == dtypes.bfloat16 else x


def check(f, *args):
    """Run ``f`` eagerly and under jit; both must agree exactly (values and dtypes)."""
    eager = f(*args)
    jitted = plax.jit(f)(*args)
    for e, j in zip(tree_leaves(eager), tree_leaves(jitted)):
        assert e.dtype == j.dtype and e.shape == j.shape
        np.testing.assert_array_equal(comparable(e), comparable(j))
    return eager
