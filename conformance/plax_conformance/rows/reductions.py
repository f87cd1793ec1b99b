"""Reductions, arg-reductions, cumulative reductions, sorting, top_k and windowed
reductions.

Sums and products run on small whole numbers (and +-1, +-2 for float products), whose
results are exact in every summation order: a backend may reduce in any order, and the
comparison can still be exact. A separate row sums ordinary floats with an
order-tolerant bound. Reducing over no elements gives the operation's identity.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes, lax

from plax_conformance import oracles
from plax_conformance.generators import Gen, floats, ints, small_ints, uniform_or_ints
from plax_conformance.registry import MATRICES, op
from plax_conformance.spec import ALL, INT_OR_BOOL, NUMERIC, Arg, strided, transposed
from plax_conformance.tolerance import ulp


def _signs_and_twos(rng, shape, dtype):
    """+-1 and +-2 for floats (products exact in any order); the whole range for ints."""
    if dtypes.is_integer(dtype):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return rng.choice(np.array([-2.0, -1.0, 1.0, 2.0]), size=shape)


_PRODUCTS = Gen(_signs_and_twos, None, "signs_and_twos")
_AXES = [{"axes": (0,)}, {"axes": (1,)}, {"axes": (0, 1)}, {"axes": ()}]
_RANK3 = ((2, 3, 4), (1, 0, 3), transposed((3, 2, 4)))
_AXES3 = [{"axes": (0, 2)}, {"axes": (1,)}, {"axes": (0, 1, 2)}]

_REDUCTIONS = (
    ("sum", NUMERIC, small_ints()),
    ("prod", NUMERIC, _PRODUCTS),
    ("max", ALL, uniform_or_ints()),
    ("min", ALL, uniform_or_ints()),
    ("and", INT_OR_BOOL, None),
    ("or", INT_OR_BOOL, None),
    ("xor", INT_OR_BOOL, None),
)

for _op, _dtypes, _gen in _REDUCTIONS:
    op(f"lax.reduce_{_op}", _dtypes, gen=_gen, shapes=MATRICES, params=_AXES,
       numpy=oracles.reduce(_op))
    op(f"lax.reduce_{_op}", _dtypes, name=f"lax.reduce_{_op}:rank3",
       subject=f"lax.reduce_{_op}", gen=_gen, shapes=_RANK3, params=_AXES3,
       numpy=oracles.reduce(_op))

# Ordinary floats: the result depends on the summation order, within a bound that grows
# with the number of terms.
op("lax.reduce_sum", ("float32", "float64", "float16", "bfloat16"), name="lax.reduce_sum:floats",
   subject="lax.reduce_sum", gen=floats(-1, 1, specials=None), shapes=MATRICES, params=_AXES,
   tol=ulp(8, atol=256, half=2), numpy=oracles.reduce("sum"))

# ----------------------------------------------------------------------------
# argmax / argmin: the first NaN, else the first of tied extremes.

_ARG_SHAPES = ((1, 1), (3, 5), (1, 7), (33, 65), transposed((5, 3)), strided((4, 6)))
for _kind in ("max", "min"):
    op(f"lax.arg{_kind}", NUMERIC + ("bool",), gen=uniform_or_ints(), shapes=_ARG_SHAPES,
       params=[{"axis": a, "index_dtype": dtypes.int32} for a in (0, 1)],
       labels=["axis=0", "axis=1"], numpy=oracles.argreduce(_kind))
    op(f"lax.arg{_kind}", ("float32",), name=f"lax.arg{_kind}:index_dtypes",
       subject=f"lax.arg{_kind}", gen=small_ints(-2, 2), shapes=((3, 5), (40, 3)),
       params=[{"axis": 0, "index_dtype": d} for d in (dtypes.int8, dtypes.uint8, dtypes.int64)],
       labels=["int8", "uint8", "int64"], numpy=oracles.argreduce(_kind))

# ----------------------------------------------------------------------------
# Cumulative reductions.

_SCANS = [{"axis": a, "reverse": r} for a in (0, 1) for r in (False, True)]
for _op, _gen in (("sum", small_ints()), ("prod", _PRODUCTS), ("max", uniform_or_ints()),
                  ("min", uniform_or_ints())):
    op(f"lax.cum{_op}", NUMERIC, gen=_gen, shapes=MATRICES, params=_SCANS,
       numpy=oracles.cumulative(_op))

# ----------------------------------------------------------------------------
# Sorting: NaNs last, -0.0 and +0.0 equal (the sort is stable).

op("lax.sort", ALL, gen=uniform_or_ints(), shapes=MATRICES,
   params=[{"dimension": 0}, {"dimension": 1}],
   numpy=lambda x, dimension: oracles.sort_operands(x, dimension=dimension)[0])
op(lambda k, v, *, dimension: lax.sort((k, v), dimension=dimension, num_keys=1), ALL,
   name="lax.sort:key_value", subject="lax.sort", primitives=("sort",),
   requires=("lax.sort",), args=(Arg(small_ints(-2, 2, specials=True)),
                                 Arg(ints(), dtype="int32")),
   shapes=MATRICES, params=[{"dimension": 0}, {"dimension": 1}],
   numpy=lambda k, v, dimension: oracles.sort_operands(k, v, dimension=dimension))
op(lambda k1, k2, v, *, dimension: lax.sort((k1, k2, v), dimension=dimension, num_keys=2), ALL,
   name="lax.sort:two_keys", subject="lax.sort", primitives=("sort",), requires=("lax.sort",),
   args=(Arg(small_ints(-1, 1)), Arg(small_ints(-2, 2, specials=True)),
         Arg(ints(), dtype="int32")),
   shapes=((3, 5), (1, 7), (17, 9), transposed((5, 3))), params=[{"dimension": 1}],
   numpy=lambda k1, k2, v, dimension: oracles.sort_operands(k1, k2, v, dimension=dimension,
                                                            num_keys=2))
op("lax.top_k", ALL, gen=uniform_or_ints(), shapes=((5,), (2, 7), (3, 4), transposed((4, 3)),
                                                    strided((2, 5))),
   params=[{"k": 1}, {"k": 3}], numpy=lambda x, k: oracles.top_k(x, k))

# ----------------------------------------------------------------------------
# Windowed reductions.

_WINDOWS = [
    {"window_dimensions": (2, 2), "window_strides": (1, 1), "padding": "VALID"},
    {"window_dimensions": (3, 2), "window_strides": (2, 1), "padding": "SAME"},
    {"window_dimensions": (2, 3), "window_strides": (1, 2), "padding": ((1, 0), (0, 2))},
    {"window_dimensions": (2, 2), "window_strides": (1, 1), "padding": "VALID",
     "base_dilation": (2, 1), "window_dilation": (1, 2)},
]
_WINDOW_LABELS = ["valid", "same_strided", "explicit_pads", "dilated"]
_WINDOW_SHAPES = ((4, 6), (5, 5), (3, 8), transposed((6, 4)), strided((4, 5)))
for _op, _dtypes, _gen in (("sum", NUMERIC, small_ints()), ("max", ALL, uniform_or_ints()),
                           ("min", ALL, uniform_or_ints())):
    op(f"lax.reduce_window_{_op}", _dtypes, gen=_gen, shapes=_WINDOW_SHAPES, params=_WINDOWS,
       labels=_WINDOW_LABELS, numpy=oracles.reduce_window(_op))
