"""plax.numpy elementwise functions: values against numpy, dtypes and edge cases against
JAX 0.10.2 (the values written out below were computed with it), eager and under jit.
"""

import ml_dtypes
import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax.errors import ConcretizationTypeError

bfloat16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.dtype(np.float32)
TOL = {F32: 2e-6, np.dtype(np.float16): 2e-3, bfloat16: 1.6e-2}


def as_f64(x):
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind in "fV" or x.dtype == bfloat16 else x


def check(fn, args, expected, dtype=None, tol=None):
    """fn(*args) eagerly and under jit equals ``expected`` (values, dtype)."""
    expected = np.asarray(expected)
    dtype = np.dtype(dtype) if dtype is not None else expected.dtype
    for mode, out in (("eager", fn(*args)), ("jit", plax.jit(fn)(*args))):
        got = np.asarray(out)
        assert got.dtype == dtype, (mode, got.dtype, dtype)
        assert got.shape == expected.shape, (mode, got.shape, expected.shape)
        if dtype.kind in "biu":
            np.testing.assert_array_equal(got, expected, err_msg=mode)
        else:
            t = TOL.get(dtype, 1e-6) if tol is None else tol
            np.testing.assert_allclose(as_f64(got), as_f64(expected), rtol=t, atol=t,
                                       equal_nan=True, err_msg=mode)


def sample(dtype, shape=(2, 3), low=-3.0, high=3.0, seed=0):
    rng = np.random.RandomState(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.rand(*shape) > 0.5
    if dtype.kind in "iu":
        lo = max(int(low), 0) if dtype.kind == "u" else int(low)
        return rng.randint(lo, int(high) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(np.float32).astype(dtype)


# ----------------------------------------------------------------------------
# Functions that compute in floating point: integers and booleans give float32.

INEXACT_UNARY = [
    # name, numpy function, input range
    ("sqrt", np.sqrt, (0.1, 4.0)),
    ("cbrt", np.cbrt, (-4.0, 4.0)),
    ("exp", np.exp, (-3.0, 3.0)),
    ("exp2", np.exp2, (-3.0, 3.0)),
    ("expm1", np.expm1, (-1.0, 1.0)),
    ("log", np.log, (0.1, 4.0)),
    ("log2", np.log2, (0.1, 4.0)),
    ("log10", np.log10, (0.1, 4.0)),
    ("log1p", np.log1p, (-0.5, 3.0)),
    ("sin", np.sin, (-3.0, 3.0)),
    ("cos", np.cos, (-3.0, 3.0)),
    ("tan", np.tan, (-1.2, 1.2)),
    ("arcsin", np.arcsin, (-0.9, 0.9)),
    ("arccos", np.arccos, (-0.9, 0.9)),
    ("arctan", np.arctan, (-3.0, 3.0)),
    ("sinh", np.sinh, (-2.0, 2.0)),
    ("cosh", np.cosh, (-2.0, 2.0)),
    ("tanh", np.tanh, (-2.0, 2.0)),
    ("arcsinh", np.arcsinh, (-3.0, 3.0)),
    ("arccosh", np.arccosh, (1.1, 4.0)),
    ("arctanh", np.arctanh, (-0.9, 0.9)),
    ("reciprocal", np.reciprocal, (0.5, 3.0)),
    ("deg2rad", np.deg2rad, (-180.0, 180.0)),
    ("rad2deg", np.rad2deg, (-3.0, 3.0)),
    ("sinc", np.sinc, (-2.0, 2.0)),
    ("rint", np.rint, (-4.0, 4.0)),
    ("fabs", np.fabs, (-3.0, 3.0)),
]


@pytest.mark.parametrize("name,np_fn,domain", INEXACT_UNARY, ids=[r[0] for r in INEXACT_UNARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, bfloat16, np.int32, np.uint8])
def test_inexact_unary(name, np_fn, domain, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        low = max(np.ceil(domain[0]), 1 if name in ("log", "log2", "log10", "arccosh") else 0)
        x = sample(dtype, low=low, high=max(np.floor(domain[1]), low))
        out_dtype = F32
    else:
        x = sample(dtype, low=domain[0], high=domain[1])
        out_dtype = dtype
    expected = np_fn(x.astype(np.float64)).astype(out_dtype)
    check(getattr(pnp, name), [pnp.asarray(x)], expected, dtype=out_dtype,
          tol=TOL[out_dtype] * (4 if name in ("tan", "sinc") else 1))


def test_inexact_unary_bool_and_weak_scalars():
    check(pnp.exp, [pnp.asarray(np.array([True, False]))], np.exp([1.0, 0.0]).astype(F32))
    out = pnp.sqrt(2)
    assert out.dtype == F32 and out.weak_type
    assert pnp.sqrt(np.float16(4)).dtype == np.float16


BINARY_FLOAT = [
    ("arctan2", np.arctan2),
    ("hypot", np.hypot),
    ("logaddexp", np.logaddexp),
    ("logaddexp2", np.logaddexp2),
    ("copysign", np.copysign),
    ("float_power", np.power),
    ("divide", np.divide),
    ("true_divide", np.true_divide),
]


@pytest.mark.parametrize("name,np_fn", BINARY_FLOAT, ids=[r[0] for r in BINARY_FLOAT])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32])
def test_binary_inexact(name, np_fn, dtype):
    x = sample(dtype, low=0.5 if name == "float_power" else -3, high=3, seed=1)
    y = sample(dtype, low=-2, high=2, seed=2)
    if name in ("divide", "true_divide"):
        y = np.where(y == 0, 1, y).astype(dtype)
    out_dtype = np.dtype(dtype) if np.dtype(dtype).kind == "f" else F32
    expected = np_fn(x.astype(np.float64), y.astype(np.float64)).astype(out_dtype)
    check(getattr(pnp, name), [pnp.asarray(x), pnp.asarray(y)], expected, dtype=out_dtype)


# ----------------------------------------------------------------------------
# Arithmetic that keeps the dtype.

ARITHMETIC = [
    ("add", np.add),
    ("subtract", np.subtract),
    ("multiply", np.multiply),
    ("maximum", np.maximum),
    ("minimum", np.minimum),
    ("fmax", np.fmax),
    ("fmin", np.fmin),
    ("floor_divide", np.floor_divide),
    ("remainder", np.remainder),
    ("fmod", np.fmod),
]


@pytest.mark.parametrize("name,np_fn", ARITHMETIC, ids=[r[0] for r in ARITHMETIC])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.float32, np.float16,
                                   bfloat16])
def test_arithmetic(name, np_fn, dtype):
    dtype = np.dtype(dtype)
    x = sample(dtype, low=-20, high=20, seed=3)
    y = sample(dtype, low=-6, high=6, seed=4)
    if name in ("floor_divide", "remainder", "fmod"):
        y = np.where(y == 0, 3, y).astype(dtype)  # division by zero is its own test
    with np.errstate(over="ignore"):
        expected = np_fn(x, y)
    if dtype.kind == "f":
        expected = np_fn(x.astype(np.float64), y.astype(np.float64)).astype(dtype)
    check(getattr(pnp, name), [pnp.asarray(x), pnp.asarray(y)], expected.astype(dtype))


@pytest.mark.parametrize("name,np_fn", [("add", np.logical_or), ("multiply", np.logical_and),
                                        ("maximum", np.logical_or),
                                        ("minimum", np.logical_and)])
def test_arithmetic_on_booleans(name, np_fn):
    x = np.array([True, True, False, False])
    y = np.array([True, False, True, False])
    check(getattr(pnp, name), [pnp.asarray(x), pnp.asarray(y)], np_fn(x, y))


def test_subtract_and_negative_refuse_booleans():
    b = pnp.asarray(np.array([True]))
    with pytest.raises(TypeError, match="subtract"):
        pnp.subtract(b, b)
    with pytest.raises(TypeError, match="negative"):
        pnp.negative(b)


# Integer division by zero and Python-style signs: values from JAX 0.10.2.
def test_integer_division_semantics():
    a = pnp.asarray(np.array([7, -7, 7, -7, 0, 5, -5], np.int32))
    b = pnp.asarray(np.array([2, 2, -2, -2, 0, 0, 0], np.int32))
    check(pnp.floor_divide, [a, b], np.array([3, -4, -4, 3, -1, -2, -2], np.int32))
    check(pnp.remainder, [a, b], np.array([1, 1, -1, -1, 0, 0, 0], np.int32))
    check(pnp.fmod, [a, b], np.array([1, -1, 1, -1, 0, 0, 0], np.int32))
    u = pnp.asarray(np.array([7, 0, 5], np.uint8))
    v = pnp.asarray(np.array([2, 0, 0], np.uint8))
    check(pnp.floor_divide, [u, v], np.array([3, 255, 255], np.uint8))
    check(pnp.remainder, [u, v], np.array([1, 0, 0], np.uint8))
    check(lambda x, y: pnp.divmod(x, y)[0], [a, b], np.array([3, -4, -4, 3, -1, -2, -2],
                                                              np.int32))
    check(lambda x, y: pnp.true_divide(x, y), [a, b], np.array(
        [3.5, -3.5, -3.5, 3.5, np.nan, np.inf, -np.inf], F32))


def test_float_division_semantics():
    a = np.array([7.0, -7, 7, -7, 0, 5, 1, -1, 1.0], F32)
    b = np.array([2.0, 2, -2, -2, 0, 0, 0, 0, 0.1], F32)
    with np.errstate(all="ignore"):
        check(pnp.floor_divide, [pnp.asarray(a), pnp.asarray(b)], np.floor_divide(a, b))
        check(pnp.remainder, [pnp.asarray(a), pnp.asarray(b)], np.remainder(a, b))
        check(pnp.fmod, [pnp.asarray(a), pnp.asarray(b)], np.fmod(a, b))


POWER_CASES = [
    # base, exponent, expected (from JAX 0.10.2)
    (np.array([2, 3, -2, 0, 1, -1], np.int32), np.array([3, -1, -2, -1, -5, -3], np.int32),
     np.array([8, 2111105451, 0, 0, 1, -1], np.int32)),
    (np.array([2, 9], np.uint8), np.array([9, 2], np.uint8), np.array([0, 81], np.uint8)),
    (np.array([2.0, -8.0], F32), np.array([0.5, 1 / 3], F32),
     np.array([1.4142135, np.nan], F32)),
    (np.array([2.0, 4.0], np.float16), np.array([2, 3], np.int32),
     np.array([4.0, 64.0], np.float16)),
    (np.array([True, False]), np.array([2, 0], np.int32), np.array([1, 1], np.int32)),
]


@pytest.mark.parametrize("base,exponent,expected", POWER_CASES)
def test_power(base, exponent, expected):
    check(pnp.power, [pnp.asarray(base), pnp.asarray(exponent)], expected)


def test_power_with_static_exponents():
    x = pnp.asarray(np.array([1.5, -2.0, 3.0], F32))
    check(lambda x: pnp.power(x, 3), [x], np.array([1.5, -2.0, 3.0], F32) ** 3)
    check(lambda x: x ** -2, [x], np.array([1.5, -2.0, 3.0], F32) ** -2.0)
    check(lambda x: x ** 0, [x], np.ones(3, F32))
    i = pnp.asarray(np.array([2, 3], np.int32))
    check(lambda x: x ** 2, [i], np.array([4, 9], np.int32))
    check(lambda x: 2 ** x, [i], np.array([4, 8], np.int32))
    check(lambda x: pnp.power(x, 0.5), [i], np.sqrt([2.0, 3.0]).astype(F32))
    with pytest.raises(TypeError, match="negative powers"):
        pnp.power(i, -1)
    out = pnp.power(2, 3)
    assert out.weak_type and out.dtype == np.int32 and int(out) == 8


UNARY_SAME = [
    ("negative", np.negative, [np.int8, np.int32, np.float32, bfloat16]),
    ("positive", lambda x: x, [np.uint8, np.int32, np.float16, np.bool_]),
    ("abs", np.abs, [np.int8, np.uint8, np.float32, np.float16, np.bool_]),
    ("sign", np.sign, [np.int8, np.uint8, np.int32, np.float32]),
    ("floor", np.floor, [np.int32, np.float32, np.float16, np.bool_]),
    ("ceil", np.ceil, [np.int32, np.float32, bfloat16]),
    ("trunc", np.trunc, [np.int8, np.float32, np.float16]),
    ("square", np.square, [np.int8, np.int32, np.float32]),
    ("round", np.round, [np.int32, np.float32, np.float16]),
]


@pytest.mark.parametrize("name,np_fn,dtypes", UNARY_SAME, ids=[r[0] for r in UNARY_SAME])
def test_unary_same_dtype(name, np_fn, dtypes):
    for dtype in map(np.dtype, dtypes):
        x = sample(dtype, low=-5, high=5, seed=5)
        if dtype.kind == "f":
            x[0, 0] = 2.5  # a halfway case for round
        expected = np_fn(x) if dtype.kind != "f" else np_fn(x.astype(np.float64)).astype(dtype)
        check(getattr(pnp, name), [pnp.asarray(x)], np.asarray(expected).astype(dtype))


def test_square_of_booleans_is_int():
    check(pnp.square, [pnp.asarray(np.array([True, False]))], np.array([1, 0], np.int32))


def test_round_decimals_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, 1.25, 1.35, 1234.5], F32)
    check(lambda x: pnp.round(x), [pnp.asarray(x)], np.round(x))
    check(lambda x: pnp.round(x, 1), [pnp.asarray(x)], np.round(x.astype(np.float64), 1)
          .astype(F32))
    check(lambda x: pnp.around(x, -2), [pnp.asarray(x)], np.array(
        [0, 0, 0, -0, 0, 0, 1200], F32))
    h = np.array([0.125, 2.675], np.float16)
    check(lambda x: pnp.round(x, 2), [pnp.asarray(h)], np.round(h.astype(np.float32), 2)
          .astype(np.float16))
    with pytest.raises(NotImplementedError):
        pnp.round(pnp.asarray(np.array([15], np.int32)), -1)


def test_signbit_copysign_heaviside():
    x = np.array([-0.0, 0.0, -3.0, 2.0, np.inf, -np.inf], F32)
    check(pnp.signbit, [pnp.asarray(x)], np.signbit(x))
    check(pnp.signbit, [pnp.asarray(np.array([-1, 0, 1], np.int8))], np.array([1, 0, 0], bool))
    check(pnp.signbit, [pnp.asarray(np.array([1, 0], np.uint8))], np.array([0, 0], bool))
    y = np.array([1.0, -1.0, 1.0, -0.0, -2.0, 3.0], F32)
    check(pnp.copysign, [pnp.asarray(x), pnp.asarray(y)], np.copysign(x, y))
    check(pnp.heaviside, [pnp.asarray(x), 0.5], np.heaviside(x, 0.5).astype(F32))


def test_nan_aware_extrema_and_hypot():
    a = np.array([1.0, np.nan, np.nan, 2.0], F32)
    b = np.array([np.nan, 2.0, np.nan, 1.0], F32)
    for name in ("maximum", "minimum", "fmax", "fmin"):
        check(getattr(pnp, name), [pnp.asarray(a), pnp.asarray(b)], getattr(np, name)(a, b))
    x = np.array([3.0, np.inf, np.nan, 1e30, 0.0], F32)
    y = np.array([4.0, np.nan, np.inf, 1e30, 0.0], F32)
    check(pnp.hypot, [pnp.asarray(x), pnp.asarray(y)], np.hypot(x, y), tol=1e-6)
    inf = np.array([1.0, -np.inf, np.inf, np.nan], F32)
    with np.errstate(invalid="ignore"):
        expected = np.logaddexp(inf, inf)
    check(pnp.logaddexp, [pnp.asarray(inf), pnp.asarray(inf)], expected)


def test_clip():
    x = np.array([1, 5, 9], np.int32)
    check(lambda x: pnp.clip(x, 2, 6), [pnp.asarray(x)], np.array([2, 5, 6], np.int32))
    check(lambda x: pnp.clip(x, min=2), [pnp.asarray(x)], np.array([2, 5, 9], np.int32))
    check(lambda x: pnp.clip(x, a_max=4), [pnp.asarray(x)], np.array([1, 4, 4], np.int32))
    check(lambda x: pnp.clip(x, 3, 1), [pnp.asarray(x)], np.array([1, 1, 1], np.int32))
    out = pnp.clip(pnp.asarray(x), 2.5, 6)
    assert out.dtype == F32 and out.weak_type  # as JAX: int32 with a float scalar
    f = np.array([1.0, np.nan, 5.0], F32)
    check(lambda x: pnp.clip(x, 2, 4), [pnp.asarray(f)], np.array([2.0, np.nan, 4.0], F32))
    with pytest.raises(TypeError, match="only one"):
        pnp.clip(pnp.asarray(x), min=1, a_min=2)


# ----------------------------------------------------------------------------
# Comparisons, logic and bits.

COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]


@pytest.mark.parametrize("name", COMPARISONS)
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.float32, bfloat16, np.bool_])
def test_comparisons(name, dtype):
    x = sample(dtype, low=-2, high=2, seed=6)
    y = sample(dtype, low=-2, high=2, seed=7)
    check(getattr(pnp, name), [pnp.asarray(x), pnp.asarray(y)],
          getattr(np, name)(x.astype(np.float64) if x.dtype == bfloat16 else x,
                            y.astype(np.float64) if y.dtype == bfloat16 else y))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical(name):
    x = np.array([0, 1, 2, 0], np.int32)
    y = np.array([0.0, 0.0, 0.5, 3.0], F32)
    check(getattr(pnp, name), [pnp.asarray(x), pnp.asarray(y)], getattr(np, name)(x, y))
    check(pnp.logical_not, [pnp.asarray(y)], np.logical_not(y))


BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"]


@pytest.mark.parametrize("name", BITWISE)
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.uint32])
def test_bitwise(name, dtype):
    x = sample(dtype, low=-50, high=50, seed=8)
    if "shift" in name:
        y = sample(dtype, low=0, high=5, seed=9)
    else:
        y = sample(dtype, low=-50, high=50, seed=10)
    check(getattr(pnp, name), [pnp.asarray(x), pnp.asarray(y)], getattr(np, name)(x, y))
    check(pnp.invert, [pnp.asarray(x)], np.invert(x))


def test_shift_semantics_from_jax():
    x = pnp.asarray(np.array([-8, 8], np.int32))
    check(lambda x: pnp.left_shift(x, 40), [x], np.array([0, 0], np.int32))
    check(lambda x: pnp.right_shift(x, 40), [x], np.array([-1, 0], np.int32))
    check(pnp.invert, [pnp.asarray(np.array([True, False]))], np.array([False, True]))
    with pytest.raises(TypeError, match="bitwise_and"):
        pnp.bitwise_and(pnp.asarray(np.array([1.0])), 1)


def test_float_predicates():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -0.0], F32)
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        check(getattr(pnp, name), [pnp.asarray(x)], getattr(np, name)(x))
        check(getattr(pnp, name), [pnp.asarray(np.array([1, 2], np.int32))],
              getattr(np, name)(np.array([1, 2])))
    check(pnp.nan_to_num, [pnp.asarray(x)], np.nan_to_num(x))
    check(lambda x: pnp.nan_to_num(x, nan=-1.0, posinf=9.0), [pnp.asarray(x)],
          np.nan_to_num(x, nan=-1.0, posinf=9.0))
    check(pnp.nan_to_num, [pnp.asarray(np.array([1, 2], np.int32))], np.array([1, 2], np.int32))


def test_isclose_allclose():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1.0, 0.0], F32)
    b = np.array([1.00001, np.nan, np.inf, np.inf, 1.1, 1e-9], F32)
    check(pnp.isclose, [pnp.asarray(a), pnp.asarray(b)], np.isclose(a, b))
    check(lambda a, b: pnp.isclose(a, b, equal_nan=True), [pnp.asarray(a), pnp.asarray(b)],
          np.isclose(a, b, equal_nan=True))
    check(pnp.isclose, [pnp.asarray(np.array([1, 2])), pnp.asarray(np.array([1, 3]))],
          np.array([True, False]))
    out = pnp.allclose(pnp.ones(3), pnp.ones(3) + 1e-7)
    assert isinstance(out, plax.Array) and out.shape == () and out.dtype == np.bool_
    assert bool(out)
    assert not bool(pnp.allclose(pnp.ones(3), pnp.zeros(3)))
    check(lambda a, b: pnp.allclose(a, b), [pnp.ones(3), pnp.ones(3)], np.array(True))


def test_where():
    c = np.array([True, False, True])
    check(lambda c: pnp.where(c, 1, 2.0), [pnp.asarray(c)], np.array([1.0, 2.0, 1.0], F32))
    assert pnp.where(pnp.asarray(c), 1, 2.0).weak_type  # as JAX
    x = np.arange(6, dtype=np.int8).reshape(2, 3)
    check(lambda c, x: pnp.where(c, x, -x), [pnp.asarray(c), pnp.asarray(x)],
          np.where(c, x, -x))
    check(lambda x: pnp.where(x > 2, x, 0), [pnp.asarray(x)], np.where(x > 2, x, 0))
    # One argument: nonzero, whose length must be static under jit.
    check(lambda c: pnp.where(c, size=3)[0], [pnp.asarray(c)], np.array([0, 2, 0], np.int32))
    np.testing.assert_array_equal(np.asarray(pnp.where(pnp.asarray(c))[0]), [0, 2])
    with pytest.raises(ConcretizationTypeError, match="size"):
        plax.jit(lambda c: pnp.where(c))(pnp.asarray(c))


NONZERO_INPUTS = [
    np.array([[0, 3, 0], [4, 0, 5]], np.int32),
    np.array([0.0, -0.0, np.nan, 2.0], np.float32),
    np.array([False, False]),
    np.zeros((2, 0, 3), np.int8),
]


@pytest.mark.parametrize("x", NONZERO_INPUTS, ids=[str(x.shape) for x in NONZERO_INPUTS])
def test_nonzero_argwhere_flatnonzero(x):
    expected = np.nonzero(x)
    size = len(expected[0])
    for mode, fn in (("eager", lambda f, *a, **k: f(*a, **k)),
                     ("jit", lambda f, *a, **k: plax.jit(lambda v: f(v, **k))(*a))):
        got = fn(pnp.nonzero, pnp.asarray(x), size=size)
        for g, e in zip(got, expected):
            assert np.asarray(g).dtype == np.int32, mode
            np.testing.assert_array_equal(np.asarray(g), e, err_msg=mode)
        np.testing.assert_array_equal(np.asarray(fn(pnp.argwhere, pnp.asarray(x), size=size)),
                                      np.argwhere(x), err_msg=mode)
        np.testing.assert_array_equal(
            np.asarray(fn(pnp.flatnonzero, pnp.asarray(x), size=size)), np.flatnonzero(x))
    padded = pnp.nonzero(pnp.asarray(x), size=size + 2, fill_value=-1)
    for g, e in zip(padded, expected):
        np.testing.assert_array_equal(np.asarray(g), np.concatenate([e, [-1, -1]]))
    eager = pnp.nonzero(pnp.asarray(x))  # without size: the length is read from the data
    for g, e in zip(eager, expected):
        np.testing.assert_array_equal(np.asarray(g), e)


# ----------------------------------------------------------------------------
# Promotion and broadcasting.

PROMOTION = [
    # (lhs, rhs, expected dtype, expected weak) -- from JAX 0.10.2
    (np.float16, 1.0, np.float16, False),
    (np.float16, 1, np.float16, False),
    (np.int32, 1.5, np.float32, True),
    (np.int8, 1, np.int8, False),
    (np.uint8, np.int8, np.int16, False),
    (np.uint32, np.int32, np.int32, False),  # x64 disabled: no int64
    (np.int32, np.float16, np.float16, False),
    (np.bool_, 1, np.int32, True),
    (np.bool_, np.uint8, np.uint8, False),
    (bfloat16, np.float16, np.float32, False),
    (np.int8, bfloat16, bfloat16, False),
    (1, 1.0, np.float32, True),
]


def _operand(spec):
    if isinstance(spec, (int, float)):
        return spec
    return pnp.ones(2, dtype=spec)


@pytest.mark.parametrize("lhs,rhs,dtype,weak", PROMOTION)
def test_promotion(lhs, rhs, dtype, weak):
    for fn in (pnp.add, pnp.multiply, lambda a, b: pnp.asarray(a) + b):
        out = fn(_operand(lhs), _operand(rhs))
        assert out.dtype == np.dtype(dtype), (lhs, rhs, out.dtype)
        assert out.weak_type == weak
    out = plax.jit(pnp.add)(_operand(lhs), _operand(rhs))
    assert out.dtype == np.dtype(dtype)


def test_broadcasting_and_its_errors():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.arange(3, dtype=np.float32)
    check(pnp.add, [pnp.asarray(x), pnp.asarray(y)], x + y)
    check(pnp.add, [pnp.asarray(x[:, :1]), pnp.asarray(y)], x[:, :1] + y)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        pnp.add(pnp.ones(2), pnp.ones(3))
    with pytest.raises(ValueError, match=r"multiply.*\(2, 3\).*\(2,\)"):
        pnp.multiply(pnp.ones((2, 3)), pnp.ones(2))
    with pytest.raises(TypeError, match="list"):
        pnp.add([1, 2], 1)


def test_numpy_operands_are_accepted_and_canonicalised():
    out = pnp.add(np.array([1.0, 2.0]), 1)  # float64 numpy data becomes float32
    assert out.dtype == F32
    np.testing.assert_array_equal(np.asarray(out), [2.0, 3.0])
