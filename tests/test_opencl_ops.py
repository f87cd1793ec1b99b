"""The opencl backend against the reference backend, value by value.

Each test runs ``plax.jit(f, backend="opencl")`` and ``plax.jit(f, backend="reference")``
on the same inputs (edge values included) and compares: integers, booleans and data
movement exactly, floats within a few ulps. Tests group many operations into one
program per dtype, because an OpenCL build costs far more than running the kernels
(PoCL: about 0.1 s per program); the dtypes are the ones the device computes.
"""

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import dtypes, lax

from tests.opencl_testing import pytestmark, x64_on, as_dtype as _dtype  # noqa: F401

SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTS = SIGNED + UNSIGNED
FLOATS = ("bfloat16", "float16", "float32", "float64")


def _caps():
    from plax.backend.registry import get_backend

    return get_backend("opencl").capabilities()


def _skip_unsupported(dt):
    if not _caps().supports_dtype(_dtype(dt)):
        pytest.skip(f"the OpenCL device does not compute {dt}")


def _ordinal(x: np.ndarray) -> np.ndarray:
    bits = x.dtype.itemsize * 8
    signed = x.view(np.dtype(f"int{bits}")).astype(np.int64)
    magnitude = signed & np.int64((1 << (bits - 1)) - 1)
    return np.where(signed < 0, -magnitude, magnitude)


def assert_close(got, want, ulp: float = 0, what: str = ""):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if not dtypes.is_float(want.dtype) or ulp == 0:
        if dtypes.is_float(want.dtype):
            same = (got == want) | (np.isnan(got.astype(np.float64)) &
                                    np.isnan(want.astype(np.float64)))
            assert same.all(), f"{what}: {got[~same][:5]} != {want[~same][:5]}"
        else:
            np.testing.assert_array_equal(got, want, err_msg=what)
        return
    g64 = got.astype(np.float64)
    w64 = want.astype(np.float64)
    nan_g, nan_w = np.isnan(g64), np.isnan(w64)
    assert (nan_g == nan_w).all(), f"{what}: NaN mismatch at {np.argwhere(nan_g != nan_w)[:4]}"
    ok = ~nan_w
    dist = np.abs(_ordinal(got[ok]) - _ordinal(want[ok]))
    dist = np.where(g64[ok] == w64[ok], 0, dist)
    assert dist.max(initial=0) <= ulp, (
        f"{what}: {dist.max()} ulp apart at {np.argmax(dist)}: "
        f"{got[ok][np.argmax(dist)]} vs {want[ok][np.argmax(dist)]}")


def run_both(f, *args):
    got = plax.jit(f, backend="opencl")(*args)
    want = plax.jit(f, backend="reference")(*args)
    return got, want


def _int_edges(dt) -> np.ndarray:
    info = np.iinfo(dt)
    values = {info.min, info.min + 1, -1, 0, 1, 2, 3, 7, info.max - 1, info.max}
    return np.array(sorted(v for v in values if info.min <= v <= info.max), dtype=object)


def _pairs(values: np.ndarray, dt):
    x, y = np.meshgrid(values, values)
    return x.ravel().astype(dt), y.ravel().astype(dt)


# ----------------------------------------------------------------------------
# Integers: every op, on every pair of edge values, in one program per dtype.

_INT_BINARY = ("add", "sub", "mul", "div", "rem", "max", "min", "bitwise_and", "bitwise_or",
               "bitwise_xor", "shift_left", "shift_right_logical", "shift_right_arithmetic",
               "eq", "ne", "lt", "le", "gt", "ge")
_INT_UNARY = ("neg", "sign", "bitwise_not", "population_count", "clz", "abs")


def _int_program(x, y):
    out = [getattr(lax, name)(x, y) for name in _INT_BINARY]
    unary = [name for name in _INT_UNARY
             if not (name == "abs" and dtypes.is_unsigned(x.dtype))]
    out += [getattr(lax, name)(x) for name in unary]
    out.append(lax.integer_pow(x, 3))
    out.append(lax.select_n(lax.lt(x, y), x, y))
    out.append(lax.clamp(lax.full_like(x, -1 if dtypes.is_signed(x.dtype) else 1), y,
                         lax.full_like(x, 5)))
    for target in ("int8", "uint16", "int32", "uint64", "float32", "float16", "bfloat16",
                   "bool"):
        out.append(lax.convert_element_type(x, _dtype(target)))
    return out


@pytest.mark.parametrize("dt", INTS)
def test_integer_ops_match_reference(dt):
    _skip_unsupported(dt)
    x, y = _pairs(_int_edges(np.dtype(dt)), dt)
    got, want = run_both(_int_program, x, y)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, what=f"{dt} output {k}")


# ----------------------------------------------------------------------------
# Floats: arithmetic and conversions exactly, transcendental functions within ulps.

_FLOAT_SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5,
                   3.0, 1e-30, -1e-30, 65504.0, 70000.0, 3.0e38, -3.0e38, 1e-45, 2.0 ** 31,
                   -(2.0 ** 31), 2.0 ** 63, 300.0, -129.0, 255.5]

_EXACT_UNARY = ("neg", "abs", "sign", "floor", "ceil", "round", "is_finite", "sqrt", "square")
_MATH_UNARY = {  # op: ulps in float32/float64 (narrow types: 1)
    "exp": 4, "exp2": 4, "log": 4, "log1p": 4, "expm1": 4, "rsqrt": 2, "cbrt": 4, "sin": 4,
    "cos": 4, "tan": 6, "asin": 4, "acos": 4, "atan": 5, "sinh": 4, "cosh": 4, "tanh": 5,
    "asinh": 4, "acosh": 4, "atanh": 5, "logistic": 4, "erf": 16, "erfc": 16,
}
_EXACT_BINARY = ("add", "sub", "mul", "div", "rem", "max", "min", "nextafter", "eq", "ne",
                 "lt", "ge")
_CONVERT_TO = ("int8", "uint8", "int32", "uint32", "int64", "uint64", "bool", "float16",
               "bfloat16", "float32")


def _float_exact_program(x, y):
    out = [getattr(lax, name)(x) for name in _EXACT_UNARY]
    out += [getattr(lax, name)(x, y) for name in _EXACT_BINARY]
    out.append(lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN))
    out.append(lax.select_n(lax.gt(x, y), x, y))
    out.append(lax.clamp(lax.full_like(x, -1.5), x, lax.full_like(x, 2.5)))
    for target in _CONVERT_TO:
        out.append(lax.convert_element_type(x, _dtype(target)))
    bits = {2: "int16", 4: "int32", 8: "int64"}[x.dtype.itemsize]
    out.append(lax.bitcast_convert_type(x, _dtype(bits)))
    return out


def _float_math_program(x):
    return [getattr(lax, name)(x) for name in _MATH_UNARY] + [lax.pow(x, x)]


@pytest.mark.parametrize("dt", FLOATS)
def test_float_arithmetic_and_conversions_match_reference(dt):
    _skip_unsupported(dt)
    values = np.array(_FLOAT_SPECIALS, np.float64)
    x, y = _pairs(values.astype(object), np.float64)
    with np.errstate(over="ignore"):
        x = x.astype(_dtype(dt))
        y = y.astype(_dtype(dt))
    got, want = run_both(_float_exact_program, x, y)
    names = list(_EXACT_UNARY) + list(_EXACT_BINARY) + ["round_even", "select", "clamp"] + [
        f"convert_{t}" for t in _CONVERT_TO] + ["bitcast"]
    for name, g, w in zip(names, got, want):
        # sqrt is correctly rounded in OpenCL only with the build flag the backend sets
        # where the device supports it; allow one ulp elsewhere.
        assert_close(g, w, ulp=1 if name == "sqrt" else 0, what=f"{dt} {name}")


@pytest.mark.parametrize("dt", FLOATS)
def test_float_math_functions_within_ulps(dt):
    _skip_unsupported(dt)
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-4, 4, 200), rng.uniform(0.01, 0.99, 50), np.array(_FLOAT_SPECIALS[:12]),
    ]).astype(_dtype(dt))
    got, want = run_both(_float_math_program, x)
    narrow = dt in ("float16", "bfloat16")
    for name, g, w in zip(list(_MATH_UNARY) + ["pow"], got, want):
        ulp = 1 if narrow else _MATH_UNARY.get(name, 16)
        assert_close(g, w, ulp=ulp, what=f"{dt} {name}")


def test_bool_ops_match_reference():
    x, y = np.meshgrid([False, True], [False, True])
    x, y = x.ravel(), y.ravel()

    def f(a, b):
        return [lax.bitwise_and(a, b), lax.bitwise_or(a, b), lax.bitwise_xor(a, b),
                lax.bitwise_not(a), lax.eq(a, b), lax.lt(a, b), lax.max(a, b), lax.min(a, b),
                lax.select_n(a, b, lax.bitwise_not(b)),
                lax.convert_element_type(a, np.float32), lax.convert_element_type(a, np.int8)]

    got, want = run_both(f, x, y)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, what=f"bool output {k}")


# ----------------------------------------------------------------------------
# Layouts: non-contiguous inputs, 0-d and empty arrays, fused layout changes.


def test_noncontiguous_inputs_and_fused_layouts():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 9)).astype(np.float32)
    b = np.asfortranarray(rng.standard_normal((9, 6)).astype(np.float32))
    c = rng.standard_normal((20, 7)).astype(np.float32)[::3, 1::2]

    def f(a, b, c):
        t = a.T * b  # a transposed in the index arithmetic, b non-contiguous on the host
        s = lax.slice(a, (1, 2), (5, 9), (2, 3))
        p = lax.pad(s, np.float32(-7), ((1, 2, 1), (0, 1, 0)))
        cat = lax.concatenate([a[:, :2], lax.rev(a, (0,))[:, :3]], 1)
        bc = lax.broadcast_in_dim(c[:, 0], (7, 4), (0,))
        r = pnp.reshape(a, (3, 18))[:, ::4]
        return t, s, p, cat, bc, r, c * 2

    got, want = run_both(f, a, b, c)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, what=f"layout output {k}")


def test_zero_d_and_empty_arrays():
    def f(s, e, m):
        return s * 2 + 1, e + 1, pnp.sum(e), lax.reduce_max(m, (1,)), m.T, pnp.sum(m, axis=0)

    s = np.float32(3.5)
    e = np.zeros((0,), np.float32)
    m = np.zeros((3, 0), np.int32)
    got, want = run_both(f, s, e, m)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, what=f"output {k}")


# ----------------------------------------------------------------------------
# Reductions: row, column, full (split in two stages when large), arg reductions.


@pytest.mark.parametrize("dt", ("int32", "float32", "float16"))
def test_reductions_match_reference(dt):
    rng = np.random.default_rng(2)
    x = rng.integers(-8, 8, (33, 65)).astype(_dtype(dt))
    big = rng.integers(-3, 4, 70001).astype(_dtype(dt))

    def f(x, big):
        return (lax.reduce_sum(x, (1,)), lax.reduce_sum(x, (0,)), lax.reduce_max(x, (0, 1)),
                lax.reduce_min(x, (1,)), lax.argmax(x, 1, np.int32),
                lax.argmin(x, 0, np.int32), lax.reduce_sum(big, (0,)),
                lax.reduce_max(big, (0,)), pnp.mean(x, axis=1))

    got, want = run_both(f, x, big)
    for k, (g, w) in enumerate(zip(got, want)):
        # Small integers: every summation order gives the same float result, except the
        # mean's rounding of the quotient.
        assert_close(g, w, ulp=1 if k == 8 else 0, what=f"{dt} reduction {k}")


def test_softmax_and_layernorm_programs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 129)).astype(np.float32)

    def f(x):
        e = pnp.exp(x - pnp.max(x, axis=-1, keepdims=True))
        soft = e / pnp.sum(e, axis=-1, keepdims=True)
        mu = pnp.mean(x, axis=-1, keepdims=True)
        var = pnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return soft, (x - mu) / pnp.sqrt(var + 1e-5)

    got, want = run_both(f, x)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=2e-6)


# ----------------------------------------------------------------------------
# dot_general: the tiled kernel for plain (batched) layouts, the host step otherwise.

_DOT_CASES = [
    ((33, 17), (17, 45), (((1,), (0,)), ((), ()))),  # A @ B
    ((17, 33), (17, 45), (((0,), (0,)), ((), ()))),  # A.T @ B
    ((33, 17), (45, 17), (((1,), (1,)), ((), ()))),  # A @ B.T
    ((3, 20, 9), (3, 9, 70), (((2,), (1,)), ((0,), (0,)))),  # batched
    ((2, 3, 4), (4, 3, 5), (((1,), (1,)), ((), ()))),  # not a plain matmul: host step
    ((5, 0), (0, 3), (((1,), (0,)), ((), ()))),  # empty contraction: zeros
    ((0, 4), (4, 3), (((1,), (0,)), ((), ()))),  # empty result
    ((7,), (7,), (((0,), (0,)), ((), ()))),  # vector dot
]


@pytest.mark.parametrize("dt", ("float32", "int32", "int8", "float64", "float16"))
def test_dot_general_layouts(dt):
    _skip_unsupported(dt)
    rng = np.random.default_rng(4)
    for lhs_shape, rhs_shape, dims in _DOT_CASES:
        a = rng.integers(-4, 5, lhs_shape).astype(_dtype(dt))
        b = rng.integers(-4, 5, rhs_shape).astype(_dtype(dt))
        got, want = run_both(lambda a, b, dims=dims: lax.dot_general(a, b, dims), a, b)
        assert_close(got, want, what=f"{dt} {lhs_shape} x {rhs_shape}")


def test_matmul_of_random_floats_is_accurate():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((130, 70)).astype(np.float32)
    b = rng.standard_normal((70, 90)).astype(np.float32)
    got = plax.jit(lambda a, b: a @ b, backend="opencl")(a, b)
    np.testing.assert_allclose(np.asarray(got), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------
# Host steps: primitives without kernels run the reference implementation.


def test_host_steps_sort_cumsum_and_loops():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 11)).astype(np.float32)
    x[0, 3] = np.nan

    def f(x):
        total = lax.fori_loop(0, 4, lambda i, acc: acc * 2 + x, pnp.zeros_like(x))
        return lax.sort(x, dimension=1), pnp.cumsum(x, axis=0), total, pnp.argsort(x[1])

    got, want = run_both(f, x)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, what=f"host output {k}")


# ----------------------------------------------------------------------------
# Eager operations on an OpenCL device.


def test_eager_ops_run_on_the_opencl_device():
    device = plax.devices("opencl")[0]
    x = plax.device_put(np.arange(12, dtype=np.int32).reshape(3, 4), device)
    y = plax.device_put(np.full((3, 4), 3, np.int32), device)
    results = [x + y, x * y, x // y, -x, x.T, x[1:, ::2], x.sum(axis=0), pnp.exp(x * 0.5)]
    for r in results:
        assert r.device == device
    host = np.arange(12, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(results[0]), host + 3)
    np.testing.assert_array_equal(np.asarray(results[2]), host // 3)
    np.testing.assert_array_equal(np.asarray(results[5]), host[1:, ::2])
    np.testing.assert_array_equal(np.asarray(results[6]), host.sum(axis=0))
    np.testing.assert_allclose(np.asarray(results[7]), np.exp(host * 0.5), rtol=1e-6)
    assert plax.jit(lambda a: a * 2)(x).device == device
