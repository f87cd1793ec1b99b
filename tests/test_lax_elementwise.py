"""Elementwise lax ops: arithmetic, comparisons, bitwise ops, selection and the
transcendental functions.

Most expected values come from JAX 0.10.2 on CPU, recorded once in
tests/data/lax_elementwise.json by tests/data/generate_lax_elementwise.py: every
op over every dtype JAX accepts, on edge values (NaN, +-inf, -0.0, the integer
limits, halves, out-of-range shifts, division by zero) and random values; which
dtypes each op accepts; and the result type of each op on Python scalars. Each
case runs eagerly and under ``plax.jit``.

Tolerances: integer, bool, bitwise and IEEE-exact results (add, div, sqrt, round,
integer_pow's chain of products, ...) must match bit for bit, -0.0 included. The
transcendental functions allow a few ulps, more where XLA's CPU kernels are
known to be loose (exp2, sinh/cosh, erfc, erf_inv, lgamma and digamma near their
zeros); the reference rounds a float64 result once, so it is the more accurate
side. XLA on CPU flushes subnormal results to zero; a subnormal where JAX has 0
is accepted.
"""

import json
import math
import os
from dataclasses import dataclass, field

import ml_dtypes
import numpy as np
import plax
import pytest
from plax import lax
from plax.errors import ConcretizationTypeError
from testdata import decode, np_dtype

DATA_PATH = os.path.join(os.path.dirname(__file__), "data", "lax_elementwise.json")
with open(DATA_PATH) as _f:
    DATA = json.load(_f)

bfloat16 = np.dtype(ml_dtypes.bfloat16)
ALL_DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bfloat16",
    "float16",
    "float32",
    "float64",
]


INPUTS = {key: decode(entry) for key, entry in DATA["inputs"].items()}


def is_float(dtype) -> bool:
    return np.dtype(dtype) in (bfloat16, np.float16, np.float32, np.float64)


# ----------------------------------------------------------------------------
# Tolerances, one row per op that is not exact.


@dataclass(frozen=True)
class Tol:
    """``|got - want| <= ulps * eps * |want| + atol * eps`` (eps of the result dtype);
    ``per_dtype`` overrides ``ulps`` for some dtypes."""

    ulps: float = 0
    atol: float = 0
    per_dtype: dict = field(default_factory=dict)

    def ulps_for(self, dtype) -> float:
        return self.per_dtype.get(np.dtype(dtype).name, self.ulps)


EXACT = Tol()
TOLERANCES = {
    "exp": Tol(2),
    "exp2": Tol(24, per_dtype={"bfloat16": 64, "float16": 2}),  # XLA's exp2 is loose
    "log": Tol(2),
    "log1p": Tol(2),
    "expm1": Tol(2),
    "rsqrt": Tol(2),
    "cbrt": Tol(2),
    "sin": Tol(2),
    "cos": Tol(2),
    "tan": Tol(2),
    "asin": Tol(2),
    "acos": Tol(2),
    "atan": Tol(2),
    "atan2": Tol(2),
    "sinh": Tol(16),
    "cosh": Tol(16),
    "tanh": Tol(2),
    "asinh": Tol(2),
    "acosh": Tol(2),
    "atanh": Tol(2, per_dtype={"float64": 8}),
    "logistic": Tol(2),
    "erf": Tol(2),
    "erfc": Tol(32),
    # JAX's float64 erf_inv is good to ~1e-10 near +-1 (ours to ~1e-16, see below).
    "erf_inv": Tol(32, per_dtype={"float64": 1e6}),
    # XLA's lgamma and digamma have absolute, not relative, accuracy near their zeros.
    "lgamma": Tol(4, atol=16, per_dtype={"float64": 16}),
    "digamma": Tol(32, atol=16),
    "pow": Tol(2),
}


def flushed_by_xla(got, want, dtype):
    """Where XLA (CPU) flushed a subnormal result to zero."""
    tiny = float(ml_dtypes.finfo(dtype).tiny)
    return (want == 0) & (np.abs(got) < tiny) & (got != 0)


def assert_matches(got, want, tol: Tol, context=""):
    got = np.asarray(got)
    assert got.dtype == want.dtype, (context, got.dtype, want.dtype)
    assert got.shape == want.shape, (context, got.shape, want.shape)
    if not is_float(want.dtype):
        bad = got != want
        assert not bad.any(), f"{context}: got {got[bad][:8]}, want {want[bad][:8]}"
        return
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    eps = float(ml_dtypes.finfo(want.dtype).eps)
    nan_ok = np.isnan(g) == np.isnan(w)
    with np.errstate(all="ignore"):
        close = (g == w) | (
            np.abs(g - w) <= tol.ulps_for(want.dtype) * eps * np.abs(w) + tol.atol * eps
        )
    close |= np.isnan(g) & np.isnan(w)
    close |= flushed_by_xla(g, w, want.dtype)
    bad = ~(nan_ok & close)
    assert not bad.any(), (
        f"{context}: at {np.flatnonzero(bad)[:8]} got {g[bad][:8]}, want {w[bad][:8]}"
    )
    zeros = (g == 0) & (w == 0)
    assert (np.signbit(g)[zeros] == np.signbit(w)[zeros]).all(), f"{context}: sign of zero"


def run_both(fn, *args):
    """``fn(*args)`` eagerly and under jit; both results, as numpy arrays."""
    return np.asarray(fn(*args)), np.asarray(plax.jit(fn)(*args))


# ----------------------------------------------------------------------------
# Every recorded JAX case.


def _case_id(case):
    dtypes = "-".join(INPUTS[k].dtype.name for k in case["args"])
    params = ",".join(f"{k}={v}" for k, v in case["params"].items())
    tag = case["tag"].replace(" ", "_")
    return "-".join(p for p in (case["op"], dtypes, params, tag) if p)


CASES = [pytest.param(c, id=_case_id(c)) for c in DATA["cases"]]


@pytest.mark.parametrize("case", CASES)
def test_matches_jax(case, x64):
    args = [INPUTS[k] for k in case["args"]]
    want = decode(case["out"])
    op = getattr(lax, case["op"])
    params = case["params"]

    def fn(*xs):
        return op(*xs, **params)

    eager, jitted = run_both(fn, *args)
    tol = TOLERANCES.get(case["op"], EXACT)
    assert_matches(eager, want, tol, "eager")
    assert_matches(jitted, want, tol, "jit")
    assert_matches(jitted, eager, EXACT, "eager vs jit")


def test_every_op_is_covered():
    recorded = {c["op"] for c in DATA["cases"]}
    expected = set(DATA["accepts"]) - {"select_n_which"}
    assert expected <= recorded


# ----------------------------------------------------------------------------
# Accepted dtypes: plax raises TypeError exactly where JAX does.

ZERO_ARGS = {
    "integer_pow": lambda x: (x,),
    "round": lambda x: (x,),
    "clamp": lambda x: (x, x, x),
    "select_n": lambda x: (np.zeros(2, bool), x, x),
    "select_n_which": lambda x: (x, np.zeros(2, np.float32), np.zeros(2, np.float32)),
}
ZERO_PARAMS = {"integer_pow": {"y": 2}}
# The ops the generator called with one operand (the others take two).
UNARY_OPS = {c["op"] for c in DATA["cases"] if len(c["args"]) == 1} - set(ZERO_ARGS)


def _accept_cases():
    for op, accepted in DATA["accepts"].items():
        if op == "pow":
            continue
        for dtype in ALL_DTYPES:
            yield pytest.param(op, dtype, dtype in accepted, id=f"{op}-{dtype}")


def _lax_call(op, x):
    if op in ZERO_ARGS:
        args = ZERO_ARGS[op](x)
    elif op in UNARY_OPS:
        args = (x,)
    else:
        args = (x, x)
    fn_name = "select_n" if op == "select_n_which" else op
    return getattr(lax, fn_name)(*args, **ZERO_PARAMS.get(op, {}))


@pytest.mark.parametrize("op,dtype,accepted", list(_accept_cases()))
def test_accepted_dtypes(op, dtype, accepted, x64):
    x = np.zeros(2, np_dtype(dtype))
    if accepted:
        plax.make_jaxpr(lambda v: _lax_call(op, v))(x)
    else:
        with pytest.raises(TypeError, match=f"lax.{op.replace('_which', '')}"):
            plax.make_jaxpr(lambda v: _lax_call(op, v))(x)


@pytest.mark.parametrize("base", ALL_DTYPES)
def test_pow_accepted_dtype_pairs(base, x64):
    accepted = set(DATA["accepts"]["pow"])
    for exponent in ALL_DTYPES:
        x = np.ones(2, np_dtype(base))
        y = np.ones(2, np_dtype(exponent))
        if f"{base},{exponent}" in accepted:
            assert np.asarray(lax.pow(x, y)).dtype == np_dtype(base)
        else:
            with pytest.raises(TypeError, match=f"lax.pow .*got {base} and {exponent}"):
                lax.pow(x, y)


# ----------------------------------------------------------------------------
# Result dtype and weak type on Python scalars (x64 enabled, as recorded).

F64 = np.float64(1.5)
WEAK_CALLS = {
    "float_unary": lambda op: getattr(lax, op)(0.5),
    "int_unary": lambda op: getattr(lax, op)(3),
    "float_binary": lambda op: getattr(lax, op)(0.5, 1.5),
    "int_binary": lambda op: getattr(lax, op)(3, 5),
    "mixed_binary": lambda op: getattr(lax, op)(F64, 1.5),
}
WEAK_EXTRA = {
    "integer_pow:float": lambda: lax.integer_pow(1.5, 3),
    "integer_pow:int": lambda: lax.integer_pow(3, 3),
    "round:float": lambda: lax.round(1.5),
    "pow:weak_float,weak_int": lambda: lax.pow(1.5, 3),
    "pow:float64,weak_int": lambda: lax.pow(F64, 3),
    "pow:weak_float,int32": lambda: lax.pow(1.5, np.int32(3)),
    "select_n:weak_cases": lambda: lax.select_n(True, 1.5, 2.5),
    "select_n:strong_which_weak_cases": lambda: lax.select_n(np.int32(1), 1.5, 2.5),
    "select_n:mixed_cases": lambda: lax.select_n(True, F64, 2.5),
    "clamp:weak": lambda: lax.clamp(0.5, 1.5, 2.5),
    "clamp:strong_operand": lambda: lax.clamp(0.5, F64, 2.5),
    "bitwise_and:bool": lambda: lax.bitwise_and(True, False),
    "is_finite:float64": lambda: lax.is_finite(F64),
}


def _weak_call(key):
    if key in WEAK_EXTRA:
        return WEAK_EXTRA[key]
    kind, op = key.split(":")
    return lambda: WEAK_CALLS[kind](op)


@pytest.mark.parametrize("key", sorted(DATA["weak"]))
def test_weak_types_match_jax(key, x64):
    want_dtype, want_weak = DATA["weak"][key]
    for fn in (_weak_call(key), plax.jit(_weak_call(key))):
        out = fn()
        assert (np.dtype(out.dtype).name, bool(out.weak_type)) == (want_dtype, want_weak)


@pytest.mark.parametrize(
    "fn,dtype,weak",
    [
        pytest.param(lambda: lax.add(1, 2), np.int32, True, id="add-ints"),
        pytest.param(lambda: lax.exp(1.0), np.float32, True, id="exp-float"),
        pytest.param(lambda: lax.add(np.float32(1), 2.0), np.float32, False, id="add-mixed"),
        pytest.param(lambda: lax.lt(1.0, 2.0), np.bool_, True, id="lt-floats"),
        pytest.param(lambda: lax.lt(np.float32(1), 2.0), np.bool_, False, id="lt-mixed"),
        pytest.param(lambda: lax.pow(2.0, 3), np.float32, True, id="pow-weak"),
        pytest.param(lambda: lax.shift_left(1, 3), np.int32, True, id="shift-ints"),
    ],
)
def test_weak_types_x32(fn, dtype, weak):
    out = fn()
    assert out.dtype == np.dtype(dtype)
    assert out.weak_type == weak


# ----------------------------------------------------------------------------
# Broadcasting in the wrappers (the primitives themselves see equal shapes).

A23 = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
COL = np.array([[1.5], [-1.0]], np.float32)
ROW = np.array([[0.5, -2.0, 4.0]], np.float32)


@pytest.mark.parametrize(
    "fn,args,expected",
    [
        pytest.param(lax.add, (COL, ROW), COL + ROW, id="size-1-dims"),
        pytest.param(lax.mul, (A23, np.float32(2)), A23 * 2, id="rank-0-array"),
        pytest.param(lambda x: lax.sub(x, 1.0), (A23,), A23 - 1, id="python-scalar"),
        pytest.param(lambda x: lax.max(0.0, x), (A23,), np.maximum(A23, 0), id="scalar-first"),
        pytest.param(lax.lt, (COL, ROW), COL < ROW, id="compare"),
        pytest.param(lax.atan2, (COL, ROW), np.arctan2(COL, ROW), id="atan2"),
        pytest.param(lambda x: lax.pow(x, 2), (A23,), A23**2, id="pow-int-scalar"),
        pytest.param(
            lambda x: lax.clamp(-1.0, x, 1.0), (A23,), np.clip(A23, -1, 1), id="clamp-scalar-bounds"
        ),
        pytest.param(lambda x: lax.select_n(True, x, -x), (A23,), -A23, id="select-scalar-which"),
        pytest.param(
            lambda x: lax.select(x > 0, x, 0 * x), (A23,), np.where(A23 > 0, A23, 0), id="select"
        ),
    ],
)
def test_broadcasting(fn, args, expected):
    for got in run_both(fn, *args):
        np.testing.assert_allclose(got, np.asarray(expected, np.float64), rtol=1e-6)
        assert got.shape == np.shape(expected)


def test_broadcast_shows_in_jaxpr():
    text = str(plax.make_jaxpr(lax.add)(COL, ROW))
    assert text.count("broadcast_in_dim") == 2
    assert "f32[2,3] = add" in text


# ----------------------------------------------------------------------------
# Errors: bad dtypes, mismatched dtypes or shapes, bad static params.

F32 = np.zeros(3, np.float32)
I32 = np.zeros(3, np.int32)
B3 = np.zeros(3, bool)


@pytest.mark.parametrize(
    "fn,error,message",
    [
        pytest.param(
            lambda: lax.exp(I32),
            TypeError,
            r"lax.exp does not accept dtype int32.*floating",
            id="exp-1",
        ),
        pytest.param(
            lambda: lax.abs(I32.astype(np.uint8)),
            TypeError,
            r"lax.abs does not accept dtype uint8",
            id="abs-1",
        ),
        pytest.param(
            lambda: lax.neg(B3), TypeError, r"lax.neg does not accept dtype bool", id="neg-1"
        ),
        pytest.param(
            lambda: lax.shift_left(F32, F32),
            TypeError,
            r"lax.shift_left .*float32",
            id="shift_left-1",
        ),
        pytest.param(
            lambda: lax.bitwise_and(F32, F32),
            TypeError,
            r"lax.bitwise_and does not accept dtype float32",
            id="bitwise_and-1",
        ),
        pytest.param(
            lambda: lax.add(F32, I32),
            TypeError,
            r"lax.add requires .*same dtypes, got float32, int32",
            id="add-1",
        ),
        pytest.param(
            lambda: lax.add(F32.astype(np.float16), 1.0),
            TypeError,
            r"got float16, float32",
            id="add-2",
        ),
        pytest.param(
            lambda: lax.eq(F32, I32), TypeError, r"lax.eq requires .*same dtypes", id="eq-1"
        ),
        pytest.param(
            lambda: lax.add(F32, np.zeros(2, np.float32)),
            TypeError,
            r"lax.add got incompatible shapes for broadcasting: \(3,\), \(2,\)",
            id="add-3",
        ),
        pytest.param(
            lambda: lax.mul(F32, np.zeros((1, 3), np.float32)),
            TypeError,
            r"lax.mul: arrays must have the same number of dimensions",
            id="mul-1",
        ),
        pytest.param(
            lambda: lax.pow(I32, I32),
            TypeError,
            r"lax.pow requires a floating base.*int32 and int32",
            id="pow-1",
        ),
        pytest.param(
            lambda: lax.pow(F32, F32.astype(np.float16)),
            TypeError,
            r"float32 and float16",
            id="pow-2",
        ),
        pytest.param(lambda: lax.pow(F32, B3), TypeError, r"float32 and bool", id="pow-3"),
        pytest.param(
            lambda: lax.integer_pow(I32, -1),
            TypeError,
            r"lax.integer_pow: integers cannot be raised to negative powers.*i32\[3\], -1",
            id="integer_pow-1",
        ),
        pytest.param(
            lambda: lax.integer_pow(F32, 1.5),
            TypeError,
            r"exponent y must be an integer",
            id="integer_pow-2",
        ),
        pytest.param(
            lambda: lax.reciprocal(I32),
            TypeError,
            r"lax.reciprocal does not accept dtype int32",
            id="reciprocal-1",
        ),
        pytest.param(
            lambda: lax.round(F32, 3), ValueError, r"rounding_method must be .*got 3", id="round-1"
        ),
        pytest.param(
            lambda: lax.round(I32),
            TypeError,
            r"lax.round does not accept dtype int32",
            id="round-2",
        ),
        pytest.param(
            lambda: lax.select_n(B3, F32, F32, F32),
            TypeError,
            r"at most 2 cases, got 3",
            id="select_n-1",
        ),
        pytest.param(
            lambda: lax.select_n(F32, F32, F32),
            TypeError,
            r"lax.select_n does not accept dtype float32 for its `which`",
            id="select_n-2",
        ),
        pytest.param(
            lambda: lax.select_n(np.zeros(2, bool), F32, F32),
            TypeError,
            r"`which` shape \(2,\) and case shape \(3,\)",
            id="select_n-3",
        ),
        pytest.param(
            lambda: lax.select_n(B3, F32, I32),
            TypeError,
            r"lax.select_n requires .*same dtypes",
            id="select_n-4",
        ),
        pytest.param(
            lambda: lax.select_n(B3, F32, np.zeros(2, np.float32)),
            TypeError,
            r"lax.select_n requires .*same shapes",
            id="select_n-5",
        ),
        pytest.param(lambda: lax.select_n(B3), ValueError, r"at least one case", id="select_n-6"),
        pytest.param(
            lambda: lax.clamp(np.zeros(2, np.float32), F32, 1.0),
            TypeError,
            r"lax.clamp requires min.shape == operand.shape",
            id="clamp-1",
        ),
        pytest.param(
            lambda: lax.clamp(np.float32(0), F32, np.zeros(2, np.float32)),
            TypeError,
            r"max.shape=\(2,\), operand.shape=\(3,\)",
            id="clamp-2",
        ),
        pytest.param(
            lambda: lax.clamp(0, F32, 1.0),
            TypeError,
            r"lax.clamp requires .*same dtypes",
            id="clamp-3",
        ),
        pytest.param(
            lambda: lax.population_count(B3),
            TypeError,
            r"lax.population_count does not accept",
            id="population_count-1",
        ),
        pytest.param(
            lambda: lax.is_finite(I32),
            TypeError,
            r"lax.is_finite does not accept dtype int32",
            id="is_finite-1",
        ),
    ],
)
def test_errors(fn, error, message):
    with pytest.raises(error, match=message):
        fn()


def test_errors_under_jit():
    with pytest.raises(TypeError, match="lax.add requires"):
        plax.jit(lambda x, y: lax.add(x, y))(F32, I32)
    with pytest.raises(ConcretizationTypeError, match="exponent y must be a static integer"):
        plax.jit(lambda x, y: lax.integer_pow(x, y))(F32, 3)


# ----------------------------------------------------------------------------
# Jaxpr text and primitive names (JAX's).


def test_jaxpr_text():
    x = np.float32(1)
    assert str(plax.make_jaxpr(lambda v: lax.integer_pow(v, 3))(x)) == (
        "{ lambda ; a:f32[]. let b:f32[] = integer_pow[y=3] a in (b,) }"
    )
    rounding = lax.RoundingMethod.TO_NEAREST_EVEN
    assert str(plax.make_jaxpr(lambda v: lax.round(v, rounding))(x)) == (
        "{ lambda ; a:f32[]. let b:f32[] = round[rounding_method=1] a in (b,) }"
    )
    assert str(plax.make_jaxpr(lax.reciprocal)(x)) == (
        "{ lambda ; a:f32[]. let b:f32[] = integer_pow[y=-1] a in (b,) }"
    )
    assert "bool[] = lt a b" in str(plax.make_jaxpr(lax.lt)(x, x))
    assert "select_n a c b" in str(plax.make_jaxpr(lax.select)(True, x, x))


def test_primitive_names_and_aliases():
    assert [
        p.name
        for p in (
            lax.bitwise.not_p,
            lax.bitwise.and_p,
            lax.bitwise.or_p,
            lax.bitwise.xor_p,
        )
    ] == ["not", "and", "or", "xor"]
    assert lax.not_ is lax.bitwise_not and lax.xor is lax.bitwise_xor
    assert lax.RoundingMethod.AWAY_FROM_ZERO == 0 and lax.RoundingMethod.TO_NEAREST_EVEN == 1
    np.testing.assert_array_equal(lax.round(np.float32(2.5), 1), np.float32(2.0))


# ----------------------------------------------------------------------------
# The float64 special functions against exact identities (tighter than JAX).

EULER_GAMMA = 0.5772156649015329


def _f64(fn, values):
    return np.asarray(fn(np.asarray(values, np.float64)))


def test_special_function_known_values(x64):
    np.testing.assert_allclose(
        _f64(lax.digamma, [1.0, 0.5, 2.0, 10.0]),
        [
            -EULER_GAMMA,
            -EULER_GAMMA - 2 * math.log(2),
            1 - EULER_GAMMA,
            sum(1 / k for k in range(1, 10)) - EULER_GAMMA,
        ],
        rtol=2e-15,
    )
    np.testing.assert_allclose(
        _f64(lax.lgamma, [0.5, 3.0, 10.0, -0.5]),
        [0.5 * math.log(math.pi), math.log(2), math.log(362880), math.log(2 * math.sqrt(math.pi))],
        rtol=2e-15,
    )
    assert _f64(lax.erf_inv, [0.0])[0] == 0.0
    np.testing.assert_allclose(_f64(lax.erf_inv, [0.5]), [0.4769362762044699], rtol=2e-16)


def test_erf_inv_inverts_erf(x64):
    y = np.concatenate([np.linspace(-5.9, 5.9, 237), np.logspace(-300, 0, 31)])
    x = _f64(lax.erf, y)
    x = x[np.abs(x) < 1]
    back = _f64(lax.erf_inv, x)
    np.testing.assert_allclose(_f64(lax.erf, back), x, rtol=3e-16, atol=0)
    # Near +-1, invert erfc instead: erf_inv(1 - c) for tiny c.
    c = np.logspace(-16, -1, 40)
    y = _f64(lax.erf_inv, 1 - c)
    np.testing.assert_allclose(_f64(lax.erfc, y), 1 - (1 - c), rtol=1e-14)


def test_digamma_recurrence_and_reflection(x64):
    x = np.concatenate([np.linspace(0.05, 30, 301), np.logspace(-8, 8, 33)])
    lhs = _f64(lax.digamma, x + 1) - _f64(lax.digamma, x)
    np.testing.assert_allclose(lhs, 1 / x, rtol=1e-13, atol=1e-14)
    z = np.linspace(-9.9, -0.1, 97) + 1e-3
    reflected = _f64(lax.digamma, 1 - z) - _f64(lax.digamma, z)
    # tan has period pi: reduce first so that pi * z does not round near the poles.
    cot = math.pi / np.tan(math.pi * (z - np.round(z)))
    np.testing.assert_allclose(reflected, cot, rtol=1e-13, atol=1e-13)


def test_special_function_poles(x64):
    poles = np.array([0.0, -0.0, -1.0, -7.0, -np.inf])
    assert np.isnan(_f64(lax.digamma, poles)).all()
    np.testing.assert_array_equal(_f64(lax.lgamma, poles), np.inf)
    np.testing.assert_array_equal(_f64(lax.lgamma, [1e308, np.inf]), np.inf)
    np.testing.assert_array_equal(_f64(lax.erf_inv, [1.0, -1.0]), [np.inf, -np.inf])
    assert np.isnan(_f64(lax.erf_inv, [1.5, -1.0000001, np.nan])).all()


def test_transcendental_low_precision_is_rounded_once():
    # bfloat16 results are rounded directly from float64, not through float32
    # (which would round 1 + 2**-8 + 2**-30 down to 1 instead of up).
    x = np.array([1 + 2**-8 + 2**-30], np.float64)
    from plax.lax.transcendental import round_to_dtype

    assert float(round_to_dtype(x, bfloat16)[0]) == 1 + 2**-7
    assert float(round_to_dtype(np.array([1e300, -1e300]), bfloat16)[0]) == np.inf
    assert float(round_to_dtype(np.array([3.0]), bfloat16)[0]) == 3.0
