"""cpu_llvm against the reference backend, op by op and dtype by dtype.

Each case runs ``plax.jit(f, backend="cpu_llvm")`` and
``plax.jit(f, backend="reference")`` on the same inputs (edge values included)
and compares: integers, booleans and data movement exactly, floats within a
few ulps (the reference rounds float64 results once; kernels compute float32
routines and round float16/bfloat16 results after every op).
"""

import numpy as np
import pytest

import plax
from plax import dtypes, lax

pytest.importorskip("llvmlite")

FLOATS = ("bfloat16", "float16", "float32", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTS = SIGNED + UNSIGNED
NUMERIC = INTS + FLOATS
ALL = ("bool",) + NUMERIC


@pytest.fixture(autouse=True)
def _x64():
    previous = plax.config.read("enable_x64")
    plax.config.update("enable_x64", True)
    yield
    plax.config.update("enable_x64", previous)


def _ordinal(x: np.ndarray) -> np.ndarray:
    bits = x.dtype.itemsize * 8
    signed = x.view(np.dtype(f"int{bits}")).astype(np.int64)
    magnitude = signed & np.int64((1 << (bits - 1)) - 1)
    return np.where(signed < 0, -magnitude, magnitude)


def assert_close(got, want, ulp: float = 0, atol: float = 0):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if not dtypes.is_float(want.dtype):
        np.testing.assert_array_equal(got, want)
        return
    g64 = got.astype(np.float64)
    w64 = want.astype(np.float64)
    nan_g, nan_w = np.isnan(g64), np.isnan(w64)
    assert (nan_g == nan_w).all(), f"NaN mismatch at {np.argwhere(nan_g != nan_w)[:4]}"
    ok = ~nan_w
    dist = np.abs(_ordinal(got[ok]) - _ordinal(want[ok]))
    # +0 and -0 are equal; infinities must match exactly.
    dist = np.where(g64[ok] == w64[ok], 0, dist)
    if atol:
        # An absolute floor in multiples of eps, for results near a root.
        eps = float(dtypes.finfo(want.dtype).eps)
        with np.errstate(invalid="ignore"):
            near = np.abs(g64[ok] - w64[ok]) <= atol * eps
        dist = np.where(near, 0, dist)
    if dist.size:
        worst = int(np.argmax(dist))
        assert dist.max() <= ulp, (
            f"{dist.max()} ulps > {ulp}: got {got[ok][worst]!r} want {want[ok][worst]!r}"
        )


def check(f, *args, ulp: float = 0, atol: float = 0):
    want, want_tree = plax.tree_util.tree_flatten(plax.jit(f, backend="reference")(*args))
    got, got_tree = plax.tree_util.tree_flatten(plax.jit(f, backend="cpu_llvm")(*args))
    assert got_tree == want_tree
    for g, w in zip(got, want):
        assert_close(g, w, ulp, atol)


def sample(dt: str, n: int = 48, lo: float = -10, hi: float = 10, seed: int = 0,
           specials: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = dtypes.dtype(dt)
    if dt == dtypes.bool_:
        return rng.integers(0, 2, n).astype(bool)
    if dtypes.is_integer(dt):
        info = np.iinfo(dt)
        small = rng.integers(max(info.min, -7), min(info.max, 7), n // 2, endpoint=True)
        wide = rng.integers(info.min, info.max, n - n // 2 - 4, endpoint=True, dtype=dt)
        edges = np.array([0, info.min, info.max, min(info.max, 1)], dtype=dt)
        return np.concatenate([small.astype(dt), wide, edges]).astype(dt)
    values = rng.uniform(lo, hi, n).astype(np.float64)
    if specials:
        values[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    return values.astype(dt)


# ----------------------------------------------------------------------------
# Unary float ops: (op, low, high, ulps for float32/float64 or (ulps, atol in eps)).

UNARY_FLOAT = [
    ("exp", -10, 10, 4), ("exp2", -10, 10, 4), ("expm1", -5, 5, 4), ("log", 0.01, 100, 4),
    ("log1p", -0.99, 10, 4), ("sqrt", 0, 100, 1), ("rsqrt", 0.01, 100, 4), ("cbrt", -100, 100, 4),
    ("sin", -10, 10, (4, 2)), ("cos", -10, 10, (4, 2)), ("tan", -1.5, 1.5, 6), ("asin", -1, 1, 4),
    ("acos", -1, 1, 4), ("atan", -10, 10, 5), ("sinh", -5, 5, 4), ("cosh", -5, 5, 4),
    ("tanh", -5, 5, 5), ("asinh", -10, 10, 4), ("acosh", 1, 10, 4), ("atanh", -1, 1, 5),
    ("logistic", -10, 10, 5), ("erf", -4, 4, (16, 1)), ("erfc", -4, 4, (16, 1)),
    ("lgamma", 0.5, 10, (32, 8)),
    ("floor", -10, 10, 0), ("ceil", -10, 10, 0), ("is_finite", -10, 10, 0),
    ("erf_inv", -1, 1, (32, 4)), ("digamma", 0.1, 10, (32, 8)), ("neg", -10, 10, 0),
    ("abs", -10, 10, 0), ("sign", -10, 10, 0), ("square", -10, 10, 0),
]


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("op,lo,hi,tol", UNARY_FLOAT, ids=[c[0] for c in UNARY_FLOAT])
def test_unary_float(op, lo, hi, tol, dt):
    x = sample(dt, lo=lo, hi=hi)
    fn = getattr(lax, op)
    half = dt in ("float16", "bfloat16")
    tol, atol = tol if isinstance(tol, tuple) else (tol, 0)
    check(fn, x, ulp=min(tol, 2) if half else tol, atol=atol)


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("method", [0, 1])
def test_round(dt, method):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.7, -3.7, np.nan, np.inf, -0.0])
    check(lambda v: lax.round(v, method), x.astype(dt))


@pytest.mark.parametrize("dt", INTS + ("bool",))
def test_integer_unary(dt):
    x = sample(dt)
    if dt != "bool":
        check(lax.population_count, x)
        check(lax.clz, x)
        check(lax.neg, x)
        check(lax.sign, x)
        check(lax.square, x)
        if dt in SIGNED:
            check(lax.abs, x)
    check(lax.bitwise_not, x)


# ----------------------------------------------------------------------------
# Binary ops.

ARITH = ("add", "sub", "mul", "div", "rem", "max", "min")


@pytest.mark.parametrize("dt", NUMERIC)
@pytest.mark.parametrize("op", ARITH)
def test_binary_arithmetic(op, dt):
    x = sample(dt, seed=1)
    y = sample(dt, seed=2)
    if dtypes.is_integer(dtypes.dtype(dt)):
        y[::5] = 0  # division by zero is defined (XLA semantics)
        if dt in SIGNED:
            x[:3] = np.iinfo(dt).min
            y[:3] = -1  # INT_MIN / -1
    fn = getattr(lax, op)
    check(fn, x, y, ulp=1 if dt in ("float16", "bfloat16") else 0 if op != "div" else 1)


@pytest.mark.parametrize("dt", FLOATS)
def test_float_binary_transcendental(dt):
    half = dt in ("float16", "bfloat16")
    x = sample(dt, lo=0.1, hi=5, seed=3)
    y = sample(dt, lo=-3, hi=3, seed=4)
    check(lax.pow, x, y, ulp=2 if half else 16)
    check(lax.atan2, x, y, ulp=2 if half else 6)
    if not half:
        check(lax.nextafter, x, y)
    check(lambda a: lax.pow(a, np.arange(-3, a.size - 3, dtype=np.int32)), x,
          ulp=2 if half else 16)
    check(lambda a: lax.integer_pow(a, 5), x, ulp=2 if half else 4)
    check(lambda a: lax.integer_pow(a, -2), x, ulp=2 if half else 4)


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("op", ("eq", "ne", "lt", "le", "gt", "ge"))
def test_comparisons(op, dt):
    x = sample(dt, seed=5)
    y = x.copy()
    y[::2] = sample(dt, seed=6)[::2]
    check(getattr(lax, op), x, y)


@pytest.mark.parametrize("dt", INTS + ("bool",))
def test_bitwise(dt):
    x = sample(dt, seed=7)
    y = sample(dt, seed=8)
    for fn in (lax.bitwise_and, lax.bitwise_or, lax.bitwise_xor):
        check(fn, x, y)


@pytest.mark.parametrize("dt", INTS)
def test_shifts_out_of_range(dt):
    bits = np.dtype(dt).itemsize * 8
    x = sample(dt, seed=9)
    amounts = np.arange(x.size) % (bits + 4) - 2  # negative, in range, >= bits
    y = amounts.astype(dt)
    for fn in (lax.shift_left, lax.shift_right_logical, lax.shift_right_arithmetic):
        check(fn, x, y)


# ----------------------------------------------------------------------------
# Selection and conversion.


@pytest.mark.parametrize("dt", ALL)
def test_select_n_and_clamp(dt):
    x = sample(dt, seed=10)
    y = sample(dt, seed=11)
    pred = sample("bool", n=x.size, seed=12)
    check(lambda p, a, b: lax.select_n(p, a, b), pred, x, y)
    which = (np.arange(x.size) % 5 - 1).astype(np.int32)  # out of range both ways
    check(lambda w, a, b: lax.select_n(w, a, b, a), which, x, y)
    if dt != "bool":
        lo, hi = np.sort(np.stack([x, y]), axis=0)
        check(lambda a, b, c: lax.clamp(a, b, c), lo, sample(dt, seed=13), hi)


_CONVERT_VALUES = [0, -0.0, 1, -1, 0.5, 1.5, 2.5, -2.5, 127, 128, 255, 256, -129, 65504, 65520,
                   1e10, -1e10, 3.4e38, 1e-8, 2**24 + 1, 2**31, -2**31, 2**53 + 1, np.inf,
                   -np.inf, np.nan, 0.1, 1 / 3, 2**63, -2**63, 1.0000001192092896, 2**64]


def _convert_input(src: str) -> np.ndarray:
    x = np.array(_CONVERT_VALUES, dtype=np.float64)
    dt = dtypes.dtype(src)
    with np.errstate(all="ignore"):
        if dt == dtypes.bool_:
            return x != 0
        if dtypes.is_integer(dt):
            info = np.iinfo(dt)
            x = np.nan_to_num(x, nan=0, posinf=info.max, neginf=info.min)
            return np.clip(x, info.min, info.max).astype(dt)
        return x.astype(dt)


@pytest.mark.parametrize("src", ALL)
def test_convert_element_type_all_pairs(src):
    x = _convert_input(src)
    for dst in ALL:
        check(lambda v: lax.convert_element_type(v, dst), x)


@pytest.mark.parametrize("pair", [("float32", "int32"), ("int32", "float32"), ("float16", "int16"),
                                  ("bfloat16", "uint16"), ("float64", "uint64")])
def test_bitcast_same_width(pair):
    src, dst = pair
    x = sample(src, seed=14)
    check(lambda v: lax.bitcast_convert_type(v, dst), x)


def test_bitcast_changing_width_is_a_host_step():
    x = sample("float32", seed=15)
    check(lambda v: lax.bitcast_convert_type(v, np.uint8), x)


# ----------------------------------------------------------------------------
# Eager execution on cpu_llvm (single-primitive programs through dispatch).


def test_eager_ops_on_committed_arrays():
    dev = plax.devices("cpu_llvm")[0]
    x = plax.device_put(np.arange(6, dtype=np.float32), dev)
    y = lax.exp(x) + x * 2
    assert y.device == dev
    ref = np.exp(np.arange(6, dtype=np.float32)) + np.arange(6, dtype=np.float32) * 2
    np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-6)
