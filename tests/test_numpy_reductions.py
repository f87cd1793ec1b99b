"""plax.numpy reductions: values against numpy, result dtypes against JAX 0.10.2, eager
and under jit; axis handling (None, int, negative, tuple), keepdims, where, initial."""

import ml_dtypes
import numpy as np
import pytest

import plax
import plax.numpy as pnp

bfloat16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.dtype(np.float32)
I32 = np.dtype(np.int32)
U32 = np.dtype(np.uint32)
TOL = {F32: 1e-5, np.dtype(np.float16): 1e-2, bfloat16: 2e-2}


def check(fn, args, expected, dtype):
    expected = np.asarray(expected)
    dtype = np.dtype(dtype)
    for mode, out in (("eager", fn(*args)), ("jit", plax.jit(fn)(*args))):
        got = np.asarray(out)
        assert got.dtype == dtype, (mode, got.dtype, dtype)
        assert got.shape == expected.shape, (mode, got.shape, expected.shape)
        if dtype.kind in "biu":
            np.testing.assert_array_equal(got, expected.astype(dtype), err_msg=mode)
        else:
            t = TOL[dtype]
            np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                                       rtol=t, atol=t, equal_nan=True, err_msg=mode)


def sample(dtype, shape=(2, 3, 4), seed=0):
    rng = np.random.RandomState(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.rand(*shape) > 0.5
    if dtype.kind in "iu":
        return rng.randint(0 if dtype.kind == "u" else -5, 6, size=shape).astype(dtype)
    return rng.uniform(-2, 2, size=shape).astype(dtype)


AXES = [None, 0, -1, (0, 2), (), (2, 0, 1)]

# name, numpy reference, {input dtype: result dtype} (JAX's choices)
REDUCTIONS = [
    ("sum", np.sum, {np.int8: I32, np.uint8: U32, np.bool_: I32, np.int32: I32,
                     np.float16: np.float16, np.float32: F32, bfloat16: bfloat16}),
    ("prod", np.prod, {np.int8: I32, np.uint8: U32, np.bool_: I32, np.float32: F32}),
    ("max", np.max, {np.int8: np.int8, np.uint8: np.uint8, np.bool_: np.bool_,
                     np.float32: F32, bfloat16: bfloat16}),
    ("min", np.min, {np.int8: np.int8, np.uint32: np.uint32, np.bool_: np.bool_,
                     np.float16: np.float16}),
    ("mean", np.mean, {np.int8: F32, np.uint8: F32, np.bool_: F32, np.float32: F32,
                       np.float16: np.float16}),
    ("var", np.var, {np.int32: F32, np.float32: F32, bfloat16: bfloat16}),
    ("std", np.std, {np.int8: F32, np.float32: F32}),
    ("any", np.any, {np.bool_: np.bool_, np.int32: np.bool_, np.float32: np.bool_}),
    ("all", np.all, {np.bool_: np.bool_, np.uint8: np.bool_, np.float32: np.bool_}),
    ("ptp", np.ptp, {np.int8: np.int8, np.float32: F32}),
    ("count_nonzero", np.count_nonzero, {np.int32: I32, np.bool_: I32, np.float32: I32}),
]


def _cases():
    for name, np_fn, dtypes in REDUCTIONS:
        for in_dtype, out_dtype in dtypes.items():
            yield pytest.param(name, np_fn, np.dtype(in_dtype), np.dtype(out_dtype),
                               id=f"{name}-{np.dtype(in_dtype).name}")


@pytest.mark.parametrize("name,np_fn,in_dtype,out_dtype", list(_cases()))
def test_reductions(name, np_fn, in_dtype, out_dtype):
    x = sample(in_dtype)
    ref_input = x.astype(np.float64) if in_dtype.kind == "f" else x
    if name in ("sum", "prod", "ptp") and in_dtype.kind in "iu":
        ref_input = x.astype(np.int64)
    for axis in AXES:
        if name in ("ptp", "count_nonzero") and axis == ():
            continue
        for keepdims in (False, True):
            kwargs = {"axis": axis, "keepdims": keepdims}
            expected = np_fn(ref_input, **kwargs)
            if out_dtype.kind == "f" and in_dtype.kind == "f":
                expected = np.asarray(expected).astype(in_dtype).astype(np.float64)
            check(lambda x: getattr(pnp, name)(x, **kwargs), [pnp.asarray(x)], expected,
                  out_dtype)


def test_float16_sums_accumulate_in_float32():
    x = np.full(4096, 0.1, np.float16)
    out = pnp.sum(pnp.asarray(x))
    assert out.dtype == np.float16
    assert abs(float(out) - 409.6) < 0.5  # a float16 running sum would stall near 256


def test_dtype_argument_and_promote_integers():
    x = pnp.asarray(np.arange(6, dtype=np.int8).reshape(2, 3))
    check(lambda x: pnp.sum(x, axis=1, dtype=pnp.int8), [x], [3, 12], np.int8)
    check(lambda x: pnp.sum(x, axis=0, dtype=float), [x], [3, 5, 7], F32)
    check(lambda x: pnp.sum(x, promote_integers=False), [x], 15, np.int8)
    check(lambda x: pnp.mean(x, dtype=pnp.int32), [x], 2, I32)
    check(lambda x: pnp.cumsum(x, dtype=pnp.int8), [x], [0, 1, 3, 6, 10, 15], np.int8)


def test_where_and_initial():
    x = pnp.arange(4)
    mask = pnp.asarray(np.array([True, False, True, False]))
    check(lambda x: pnp.sum(x, initial=10), [x], 16, I32)
    check(lambda x, m: pnp.sum(x, where=m), [x, mask], 2, I32)
    check(lambda x, m: pnp.max(x, where=m, initial=-1), [x, mask], 2, I32)
    check(lambda x: pnp.max(x, initial=7), [x], 7, I32)
    check(lambda: pnp.max(pnp.zeros((0,)), initial=3.0), [], 3.0, F32)
    check(lambda x, m: pnp.mean(x, where=m), [x, mask], 1.0, F32)
    check(lambda x, m: pnp.any(x > 2, where=m), [x, mask], False, np.bool_)
    m2 = pnp.asarray(np.array([[True], [False]]))
    y = pnp.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    check(lambda y, m: pnp.var(y, axis=1, where=m), [y, m2], [2 / 3, np.nan], F32)
    with pytest.raises(ValueError, match="initial"):
        pnp.max(x, where=mask)
    with pytest.raises(ValueError, match="zero-size"):
        pnp.max(pnp.zeros((0,)))


def test_mean_var_edge_cases():
    check(lambda: pnp.mean(pnp.zeros((0,))), [], np.nan, F32)
    check(lambda x: pnp.var(x, ddof=3), [pnp.ones(3)], np.nan, F32)
    x = np.array([1.0, 2, 3, 4], F32)
    check(lambda x: pnp.std(x, ddof=1), [pnp.asarray(x)], np.std(x, ddof=1), F32)
    check(lambda x: pnp.var(x, correction=1), [pnp.asarray(x)], np.var(x, ddof=1), F32)
    check(lambda: pnp.sum(3.0), [], 3.0, F32)
    assert not pnp.sum(3.0).weak_type


def test_arg_reductions():
    x = np.array([[1.0, 5.0, 5.0], [np.nan, 0.0, 2.0]], F32)
    for name in ("argmax", "argmin"):
        np_fn = getattr(np, name)
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                check(lambda x: getattr(pnp, name)(x, axis=axis, keepdims=keepdims),
                      [pnp.asarray(x)], np_fn(x, axis=axis, keepdims=keepdims), I32)
    ints = np.array([3, 1, 3, 0], np.int8)
    check(pnp.argmax, [pnp.asarray(ints)], 0, I32)
    with pytest.raises(ValueError, match="empty"):
        pnp.argmax(pnp.zeros((0,)))


def test_cumulative():
    x = sample(np.int32, (2, 3))
    for name in ("cumsum", "cumprod"):
        for axis in (None, 0, 1, -2):
            check(lambda x: getattr(pnp, name)(x, axis=axis), [pnp.asarray(x)],
                  getattr(np, name)(x, axis=axis), I32)
    b = np.array([True, False, True])
    check(pnp.cumsum, [pnp.asarray(b)], [1, 1, 2], I32)
    check(lambda x: pnp.cumulative_sum(x, include_initial=True), [pnp.asarray(b)],
          [0, 1, 1, 2], I32)
    f = np.array([0.5, 2.0, -1.0], np.float16)
    check(pnp.cumprod, [pnp.asarray(f)], np.cumprod(f), np.float16)


def test_statistics_helpers():
    x = np.array([[1.0, 5.0, 2.0, 4.0], [3.0, np.nan, 1.0, 0.0]], F32)
    check(lambda x: pnp.median(x, axis=1), [pnp.asarray(x)], np.median(x, axis=1), F32)
    check(lambda x: pnp.median(x[0]), [pnp.asarray(x)], 3.0, F32)
    check(lambda x: pnp.nansum(x, axis=1), [pnp.asarray(x)], np.nansum(x, axis=1), F32)
    check(lambda x: pnp.nanmax(x), [pnp.asarray(x)], np.nanmax(x), F32)
    check(lambda x: pnp.nanmean(x, axis=1), [pnp.asarray(x)], np.nanmean(x, axis=1), F32)
    w = np.array([1.0, 1.0, 0.0, 0.0], F32)
    check(lambda x, w: pnp.average(x[0], weights=w), [pnp.asarray(x), pnp.asarray(w)], 3.0,
          F32)
    check(lambda x, w: pnp.average(x, axis=1, weights=w), [pnp.asarray(x), pnp.asarray(w)],
          [3.0, np.nan], F32)


AXIS_ERRORS = [
    (lambda: pnp.sum(pnp.ones((2, 3)), axis=2), ValueError, "axis 2 is out of bounds"),
    (lambda: pnp.sum(pnp.ones((2, 3)), axis=-3), ValueError, "out of bounds"),
    (lambda: pnp.mean(pnp.ones((2, 3)), axis=(0, 0)), ValueError, "repeated"),
    (lambda: pnp.sum(pnp.asarray(3.0), axis=0), ValueError, "dimension 0"),
    (lambda: pnp.argmax(pnp.ones(3), axis=1), ValueError, "out of bounds"),
    (lambda: pnp.cumsum(pnp.ones(3), axis=1.5), TypeError, "integer"),
    (lambda: pnp.sum([1, 2]), TypeError, "list"),
    (lambda: pnp.sum(pnp.ones(3), out=pnp.ones(())), NotImplementedError, "out"),
]


@pytest.mark.parametrize("index", range(len(AXIS_ERRORS)))
def test_axis_errors(index):
    fn, error, pattern = AXIS_ERRORS[index]
    with pytest.raises(error, match=pattern):
        fn()


def test_normalisation_jit_agrees_with_eager():
    x = np.random.RandomState(0).normal(3.0, 2.0, size=(10000, 10)).astype(np.float32)

    def norm(X):
        return (X - X.mean(0)) / X.std(0)

    X = pnp.asarray(x)
    eager = np.asarray(norm(X))
    jitted = np.asarray(plax.jit(norm)(X))
    np.testing.assert_allclose(eager, jitted, rtol=1e-6, atol=1e-6)
    expected = (x - x.mean(0, dtype=np.float64)) / x.std(0, dtype=np.float64)
    np.testing.assert_allclose(eager, expected, rtol=1e-4, atol=1e-4)
