"""Contractions: dot_general and conv_general_dilated.

Most rows multiply small whole numbers, so every accumulation order gives the exact
result and the comparison is exact; one row per operation uses ordinary floats with a
tolerance for the accumulation order.
"""

from __future__ import annotations

from plax import dtypes

from plax_conformance import oracles
from plax_conformance.generators import floats, small_ints
from plax_conformance.registry import op
from plax_conformance.spec import FLOATS, NUMERIC, each, strided, transposed
from plax_conformance.tolerance import ulp

_EXACT_INPUTS = small_ints(-3, 3)
_FLOAT_TOL = ulp(16, atol=64, half=2)

# ----------------------------------------------------------------------------
# dot_general: one row per family of dimension numbers.

_MATMUL = {"dimension_numbers": (((1,), (0,)), ((), ()))}
_MATMUL_SHAPES = (
    each((3, 4), (4, 5)),
    each((1, 1), (1, 1)),
    each((0, 3), (3, 2)),
    each((3, 0), (0, 2)),
    each((33, 17), (17, 9)),
    transposed((4, 3), (3, 5)),
    strided((3, 4), (4, 2)),
)
op("lax.dot_general", NUMERIC, gen=_EXACT_INPUTS, arity=2, shapes=_MATMUL_SHAPES,
   params=[_MATMUL], labels=["matmul"], numpy=oracles.dot_general)
op("lax.dot_general", NUMERIC, name="lax.dot_general:batch", subject="lax.dot_general",
   gen=_EXACT_INPUTS, arity=2,
   shapes=(each((2, 3, 4), (2, 4, 5)), each((1, 1, 1), (1, 1, 1)), each((0, 2, 3), (0, 3, 1)),
           transposed((2, 3, 4), (2, 4, 5))),
   params=[{"dimension_numbers": (((2,), (1,)), ((0,), (0,)))}], labels=["batch"],
   numpy=oracles.dot_general)
op("lax.dot_general", NUMERIC, name="lax.dot_general:vector", subject="lax.dot_general",
   gen=_EXACT_INPUTS, arity=2, shapes=(each((5,), (5,)), each((0,), (0,)), strided((7,), (7,))),
   params=[{"dimension_numbers": (((0,), (0,)), ((), ()))}], labels=["vector"],
   numpy=oracles.dot_general)
op("lax.dot_general", NUMERIC, name="lax.dot_general:nt", subject="lax.dot_general",
   gen=_EXACT_INPUTS, arity=2, shapes=(each((3, 4), (5, 4)), each((2, 6), (1, 6))),
   params=[{"dimension_numbers": (((1,), (1,)), ((), ()))}], labels=["contract_last"],
   numpy=oracles.dot_general)
op("lax.dot_general", FLOATS, name="lax.dot_general:floats", subject="lax.dot_general",
   gen=floats(-1, 1, specials=None), arity=2, shapes=_MATMUL_SHAPES, params=[_MATMUL],
   labels=["matmul"], tol=_FLOAT_TOL, numpy=oracles.dot_general)
op("lax.dot_general", ("int8", "uint8", "int16"), name="lax.dot_general:preferred_int32",
   subject="lax.dot_general", arity=2, shapes=_MATMUL_SHAPES[:3],
   params=[{**_MATMUL, "preferred_element_type": dtypes.int32}], labels=["to_int32"],
   numpy=oracles.dot_general)
op("lax.dot_general", ("bfloat16", "float16"), name="lax.dot_general:preferred_float32",
   subject="lax.dot_general", gen=floats(-1, 1, specials=None), arity=2,
   shapes=_MATMUL_SHAPES[:3], params=[{**_MATMUL, "preferred_element_type": dtypes.float32}],
   labels=["to_float32"], tol=_FLOAT_TOL, numpy=oracles.dot_general)

# ----------------------------------------------------------------------------
# conv_general_dilated.

_CONV_DTYPES = FLOATS + ("int32", "int8")
_CONV2D_SHAPES = (
    each((2, 3, 5, 6), (4, 3, 2, 3)),
    each((1, 1, 4, 4), (1, 1, 1, 1)),
    each((1, 2, 7, 5), (3, 2, 3, 3)),
    transposed((1, 2, 4, 5), (2, 2, 2, 2)),
)
_CONV2D = [
    {"window_strides": (1, 1), "padding": "VALID"},
    {"window_strides": (2, 1), "padding": "SAME"},
    {"window_strides": (1, 1), "padding": ((1, 0), (2, 1)), "rhs_dilation": (1, 2)},
    {"window_strides": (1, 2), "padding": ((0, 0), (1, 1)), "lhs_dilation": (2, 1)},
    {"window_strides": (1, 1), "padding": ((-1, 1), (1, -1))},
]
op("lax.conv_general_dilated", _CONV_DTYPES, gen=_EXACT_INPUTS, arity=2, shapes=_CONV2D_SHAPES,
   params=_CONV2D, labels=["valid", "same_strided", "rhs_dilated", "lhs_dilated",
                            "negative_pads"], numpy=oracles.conv_general_dilated)
op("lax.conv_general_dilated", _CONV_DTYPES, name="lax.conv_general_dilated:nhwc",
   subject="lax.conv_general_dilated", gen=_EXACT_INPUTS, arity=2,
   shapes=(each((2, 5, 6, 3), (2, 3, 3, 4)), each((1, 4, 4, 1), (1, 1, 1, 2))),
   params=[{"window_strides": (1, 1), "padding": "SAME",
            "dimension_numbers": ("NHWC", "HWIO", "NHWC")}],
   labels=["nhwc_same"], numpy=oracles.conv_general_dilated)
op("lax.conv_general_dilated", _CONV_DTYPES, name="lax.conv_general_dilated:1d",
   subject="lax.conv_general_dilated", gen=_EXACT_INPUTS, arity=2,
   shapes=(each((2, 7, 3), (3, 3, 4)), each((1, 1, 1), (1, 1, 2)), each((1, 0, 2), (1, 2, 1))),
   params=[{"window_strides": (2,), "padding": "VALID",
            "dimension_numbers": ("NWC", "WIO", "NWC")}],
   labels=["nwc"], numpy=oracles.conv_general_dilated)
op("lax.conv_general_dilated", _CONV_DTYPES, name="lax.conv_general_dilated:groups",
   subject="lax.conv_general_dilated", gen=_EXACT_INPUTS, arity=2,
   shapes=(each((2, 4, 5, 5), (6, 2, 2, 2)), each((1, 4, 3, 3), (2, 2, 1, 1))),
   params=[{"window_strides": (1, 1), "padding": "VALID", "feature_group_count": 2}],
   labels=["feature_groups=2"], numpy=oracles.conv_general_dilated)
op("lax.conv_general_dilated", _CONV_DTYPES, name="lax.conv_general_dilated:batch_groups",
   subject="lax.conv_general_dilated", gen=_EXACT_INPUTS, arity=2,
   shapes=(each((4, 3, 5, 5), (4, 3, 2, 2)), each((2, 1, 3, 3), (2, 1, 1, 1))),
   params=[{"window_strides": (1, 1), "padding": "VALID", "batch_group_count": 2}],
   labels=["batch_groups=2"], numpy=oracles.conv_general_dilated)
op("lax.conv_general_dilated", FLOATS, name="lax.conv_general_dilated:floats",
   subject="lax.conv_general_dilated", gen=floats(-1, 1, specials=None), arity=2,
   shapes=_CONV2D_SHAPES, params=_CONV2D[:2], labels=["valid", "same_strided"],
   tol=_FLOAT_TOL, numpy=oracles.conv_general_dilated)
