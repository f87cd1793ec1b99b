"""lax.sort on the opencl backend (a bitonic network) against the reference backend:
every dtype, NaN and signed zeros, ties (stability), several operands and keys, any
dimension, lengths that are not powers of two; plus the paths that stay host steps."""

import numpy as np
import plax
import pytest
from plax import dtypes, lax

from tests.opencl_testing import pytestmark, x64_on, as_dtype as _dtype  # noqa: F401


def _data(dtype, shape, rng):
    dtype = _dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtypes.is_float(dtype):
        # Few distinct values (ties), signed zeros, NaNs of both signs, infinities.
        pool = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, -np.nan, 3.0, 1.5],
                        np.float64)
        return pool[rng.integers(0, len(pool), shape)].astype(dtype)
    info = np.iinfo(dtype)
    pool = np.array([info.min, info.max, 0, 1, 7, 7, 3], dtype)
    return pool[rng.integers(0, len(pool), shape)]


def _bits(x):
    x = np.asarray(x)
    return x.view(np.dtype(f"u{x.dtype.itemsize}")) if x.dtype.itemsize > 1 else x


def _check(f, *args, eager=True):
    want = plax.jit(f, backend="reference")(*args)
    got = plax.jit(f, backend="opencl")(*args)
    want = want if isinstance(want, (tuple, list)) else (want,)
    got = got if isinstance(got, (tuple, list)) else (got,)
    for g, w in zip(got, want):
        # Bit for bit: signed zeros and NaN payloads must land where the stable sort puts them.
        np.testing.assert_array_equal(_bits(np.asarray(g)), _bits(np.asarray(w)))
    if eager:
        device = plax.devices("opencl")[0]
        got = f(*[plax.device_put(a, device) for a in args])
        got = got if isinstance(got, (tuple, list)) else (got,)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(_bits(np.asarray(g)), _bits(np.asarray(w)))


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8",
                                   "uint16", "uint32", "uint64", "float16", "bfloat16",
                                   "float32", "float64"])
def test_sort_one_operand(dtype):
    rng = np.random.default_rng(0)
    x = _data(dtype, (3, 37), rng)
    _check(lambda a: lax.sort(a, dimension=1), x, eager=dtype in ("float32", "int32"))


@pytest.mark.parametrize("shape,dimension", [((1,), 0), ((2,), 0), ((64,), 0), ((5, 4, 3), 1),
                                              ((5, 4, 3), 0), ((3, 1000), 1)])
def test_sort_shapes_and_dimensions(shape, dimension):
    rng = np.random.default_rng(1)
    x = _data("float32", shape, rng)
    _check(lambda a: lax.sort(a, dimension=dimension), x, eager=False)


def test_sort_several_operands_and_keys():
    rng = np.random.default_rng(2)
    k0 = _data("int32", (4, 50), rng)
    k1 = _data("float32", (4, 50), rng)
    v = rng.standard_normal((4, 50)).astype(np.float64)
    w = np.arange(200, dtype=np.int16).reshape(4, 50)
    _check(lambda a, b, c, d: lax.sort((a, b, c, d), dimension=1, num_keys=2), k0, k1, v, w)
    _check(lambda a, b, c: lax.sort((a, b, c), dimension=0, num_keys=1), k1, v, w, eager=False)
    # The permutation of a stable sort of ties is the identity on equal keys.
    keys = np.zeros((2, 9), np.int8)
    idx = np.arange(18, dtype=np.int32).reshape(2, 9)
    _check(lambda a, b: lax.sort((a, b), dimension=1, num_keys=1, is_stable=False), keys, idx,
           eager=False)


def test_sort_key_val_and_argsort():
    import plax.numpy as pnp

    rng = np.random.default_rng(3)
    x = rng.standard_normal(100).astype(np.float32)
    _check(lambda a: pnp.argsort(a), x, eager=False)
    _check(lambda a, b: lax.sort_key_val(a, b), x, np.arange(100, dtype=np.int32), eager=False)


def test_sort_runs_on_the_device_and_empty_falls_back():
    from plax_opencl.sort import _Sort

    x = np.array([3.0, 1.0, 2.0], np.float32)
    compiled = plax.jit(lambda a: lax.sort(a), backend="opencl").lower(x).compile()
    assert any(isinstance(run, _Sort) for run, _ in compiled.executable.steps)
    _check(lambda a: lax.sort(a, dimension=1), np.zeros((2, 0), np.float32), eager=False)
