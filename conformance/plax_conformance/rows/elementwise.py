"""Elementwise lax primitives: arithmetic, comparisons, bitwise operations, selection and
the transcendental functions. One row per primitive (a few have a second row for
another params family); each runs the standard shapes plus the edge-value sample.

Tolerances: exact for integer, bitwise and comparison results and for the IEEE
operations that are correctly rounded (add, sub, mul, fmod, floor, ...); ulp-based for
the transcendental functions, with bounds taken from the OpenCL full-profile accuracy
requirements, which every in-tree backend aims for.
"""

from __future__ import annotations

import math

import numpy as np

from plax_conformance import oracles
from plax_conformance.generators import (
    BASIC_SPECIALS,
    Gen,
    between,
    bools,
    floats,
    ints,
    positive,
    shift_amounts,
    uniform_or_ints,
)
from plax_conformance.registry import binary, op, unary
from plax_conformance.spec import (
    ALL,
    BOOL,
    FLOATS,
    INT_OR_BOOL,
    INTEGERS,
    NUMERIC,
    SIGNED_NUMERIC,
    Arg,
)
from plax_conformance.tolerance import ulp

F = oracles.float_op

# ----------------------------------------------------------------------------
# Arithmetic.

unary("lax.neg", NUMERIC, numpy=np.negative)
unary("lax.sign", NUMERIC, numpy=np.sign)
unary("lax.abs", SIGNED_NUMERIC, numpy=np.abs)
unary("lax.square", NUMERIC, numpy=np.square, tol=ulp(0))
binary("lax.add", NUMERIC, numpy=np.add)
binary("lax.sub", NUMERIC, numpy=np.subtract)
binary("lax.mul", NUMERIC, numpy=np.multiply)
# IEEE division is correctly rounded; OpenCL's default single precision allows 2.5 ulp.
binary("lax.div", NUMERIC, numpy=oracles.int_div, tol=ulp(3, half=1))
binary("lax.rem", NUMERIC, numpy=oracles.int_rem)
binary("lax.max", ALL, numpy=np.maximum)
binary("lax.min", ALL, numpy=np.minimum)
unary("lax.integer_pow", NUMERIC, gen=uniform_or_ints(-2, 2),
      params=[{"y": y} for y in (0, 1, 2, 3, 7)],
      numpy=F(lambda x, y: np.power(x, y) if y else np.ones_like(x)), tol=ulp(4, half=4))
unary("lax.integer_pow", FLOATS, name="lax.integer_pow:negative", gen=floats(-2, 2),
      params=[{"y": -1}, {"y": -2}], numpy=F(lambda x, y: np.power(x, float(y))),
      tol=ulp(4, half=4), subject="lax.integer_pow")
unary("lax.floor", FLOATS, gen=floats(-50, 50), numpy=np.floor)
unary("lax.ceil", FLOATS, gen=floats(-50, 50), numpy=np.ceil)
unary("lax.round", FLOATS, gen=Gen(lambda rng, shape, dt: rng.integers(-20, 20, shape) / 4.0,
                                   floats().edge, "quarters(-5, 5)", 0.05),
      params=[{"rounding_method": 0}, {"rounding_method": 1}],
      labels=["away_from_zero", "to_nearest_even"], numpy=oracles.round_away)
binary("lax.nextafter", FLOATS, numpy=np.nextafter)
unary("lax.is_finite", FLOATS, numpy=np.isfinite)

# ----------------------------------------------------------------------------
# Comparisons: every dtype, NaN compares unequal (and unordered).

binary("lax.eq", ALL, numpy=np.equal)
binary("lax.ne", ALL, numpy=np.not_equal)
binary("lax.lt", ALL, numpy=np.less)
binary("lax.le", ALL, numpy=np.less_equal)
binary("lax.gt", ALL, numpy=np.greater)
binary("lax.ge", ALL, numpy=np.greater_equal)

# ----------------------------------------------------------------------------
# Bitwise and logical operations; shifts.

unary("lax.bitwise_not", INT_OR_BOOL, primitives=("not",), numpy=np.invert)
binary("lax.bitwise_and", INT_OR_BOOL, primitives=("and",), numpy=np.bitwise_and)
binary("lax.bitwise_or", INT_OR_BOOL, primitives=("or",), numpy=np.bitwise_or)
binary("lax.bitwise_xor", INT_OR_BOOL, primitives=("xor",), numpy=np.bitwise_xor)
_SHIFT = (ints(), shift_amounts())
binary("lax.shift_left", INTEGERS, gen=_SHIFT, numpy=oracles.shift_left)
binary("lax.shift_right_logical", INTEGERS, gen=_SHIFT, numpy=oracles.shift_right_logical)
binary("lax.shift_right_arithmetic", INTEGERS, gen=_SHIFT,
       numpy=oracles.shift_right_arithmetic)
unary("lax.population_count", INTEGERS, numpy=oracles.population_count)
unary("lax.clz", INTEGERS, numpy=oracles.clz)

# ----------------------------------------------------------------------------
# Selection.

op("lax.select_n", ALL, args=(Arg(bools(), dtype=BOOL[0]), Arg(), Arg()), specials=True,
   numpy=lambda which, a, b: np.where(which, b, a))
op("lax.select_n", ALL, name="lax.select_n:int32", subject="lax.select_n",
   args=(Arg(ints(0, 2, specials=False), dtype="int32"), Arg(), Arg(), Arg()),
   numpy=lambda which, a, b, c: np.choose(which, [a, b, c]))
op("lax.clamp", NUMERIC, args=(Arg(between(-2, -1), shape=()), Arg(), Arg(between(1, 2), shape=())),
   specials=True, numpy=lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi))
op("lax.clamp", NUMERIC, name="lax.clamp:arrays", subject="lax.clamp", arity=3, specials=True,
   numpy=lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi))

# ----------------------------------------------------------------------------
# Transcendental functions (floating dtypes). Trigonometric rows stay in [-10, 10]
# plus the non-limit edge values: argument reduction of huge inputs is a separate
# accuracy question from the one these rows ask.

_TRIG = floats(-10, 10, specials=BASIC_SPECIALS)
unary("lax.exp", FLOATS, gen=floats(-10, 10), tol=ulp(4), numpy=F(np.exp))
unary("lax.exp2", FLOATS, gen=floats(-10, 10), tol=ulp(4), numpy=F(np.exp2))
unary("lax.log", FLOATS, gen=positive(0.01, 100), tol=ulp(4), numpy=F(np.log))
unary("lax.log1p", FLOATS, gen=floats(-0.99, 10), tol=ulp(4), numpy=F(np.log1p))
unary("lax.expm1", FLOATS, gen=floats(-5, 5), tol=ulp(4), numpy=F(np.expm1))
unary("lax.sqrt", FLOATS, gen=positive(0, 100), tol=ulp(3, half=1), numpy=np.sqrt)
unary("lax.rsqrt", FLOATS, gen=positive(0.01, 100), tol=ulp(4),
      numpy=F(lambda x: 1 / np.sqrt(x)))
unary("lax.cbrt", FLOATS, gen=floats(-100, 100), tol=ulp(4), numpy=F(np.cbrt))
unary("lax.sin", FLOATS, gen=_TRIG, tol=ulp(4, atol=2), numpy=F(np.sin))
unary("lax.cos", FLOATS, gen=_TRIG, tol=ulp(4, atol=2), numpy=F(np.cos))
unary("lax.tan", FLOATS, gen=_TRIG, tol=ulp(6, atol=2), numpy=F(np.tan))
unary("lax.asin", FLOATS, gen=floats(-1, 1), tol=ulp(4), numpy=F(np.arcsin))
unary("lax.acos", FLOATS, gen=floats(-1, 1), tol=ulp(4), numpy=F(np.arccos))
unary("lax.atan", FLOATS, gen=floats(-10, 10), tol=ulp(5), numpy=F(np.arctan))
binary("lax.atan2", FLOATS, gen=floats(-5, 5), tol=ulp(6), numpy=F(np.arctan2))
unary("lax.sinh", FLOATS, gen=floats(-5, 5), tol=ulp(4), numpy=F(np.sinh))
unary("lax.cosh", FLOATS, gen=floats(-5, 5), tol=ulp(4), numpy=F(np.cosh))
unary("lax.tanh", FLOATS, gen=floats(-5, 5), tol=ulp(5), numpy=F(np.tanh))
unary("lax.asinh", FLOATS, gen=floats(-10, 10), tol=ulp(4), numpy=F(np.arcsinh))
unary("lax.acosh", FLOATS, gen=positive(1, 10), tol=ulp(4), numpy=F(np.arccosh))
unary("lax.atanh", FLOATS, gen=floats(-1, 1), tol=ulp(5), numpy=F(np.arctanh))
unary("lax.logistic", FLOATS, gen=floats(-10, 10), tol=ulp(5),
      numpy=F(lambda x: 1 / (1 + np.exp(-x))))
unary("lax.erf", FLOATS, gen=floats(-4, 4), tol=ulp(16, atol=1), numpy=oracles.via_math(math.erf))
unary("lax.erfc", FLOATS, gen=floats(-4, 4), tol=ulp(16, atol=1),
      numpy=oracles.via_math(math.erfc))
unary("lax.erf_inv", FLOATS, gen=floats(-1, 1), tol=ulp(32, atol=4))
unary("lax.lgamma", FLOATS, gen=floats(-5, 10), tol=ulp(32, atol=8, half=4),
      numpy=oracles.via_math(math.lgamma))
unary("lax.digamma", FLOATS, gen=positive(0.1, 10), tol=ulp(32, atol=8, half=4))
binary("lax.pow", FLOATS, gen=(positive(0.1, 5), floats(-3, 3)), tol=ulp(16, half=2),
       numpy=F(np.power))
op("lax.pow", FLOATS, name="lax.pow:int_exponent", subject="lax.pow", specials=True,
   args=(Arg(floats(-3, 3)), Arg(ints(-5, 5), dtype="int32")), tol=ulp(16, half=2),
   numpy=F(lambda x, y: np.power(x, y.astype(x.dtype))))
