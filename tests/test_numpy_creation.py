"""plax.numpy array creation: values, dtypes and weak types (JAX 0.10.2 is the reference
for dtypes and weak types), eager and under jit, and the errors for bad input."""

import ml_dtypes
import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax.errors import ConcretizationTypeError

bfloat16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.dtype(np.float32)
I32 = np.dtype(np.int32)


def check(fn, expected, dtype=None, weak=False, args=()):
    """fn(*args) eagerly and under jit equals ``expected`` with the given dtype/weak type."""
    expected = np.asarray(expected)
    dtype = np.dtype(dtype) if dtype is not None else expected.dtype
    for mode, out in (("eager", fn(*args)), ("jit", plax.jit(fn)(*args))):
        assert isinstance(out, plax.Array), mode
        assert out.dtype == dtype, (mode, out.dtype, dtype)
        assert out.weak_type == weak, (mode, out.weak_type)
        assert out.shape == expected.shape, (mode, out.shape, expected.shape)
        np.testing.assert_allclose(np.asarray(out).astype(np.float64),
                                   expected.astype(dtype).astype(np.float64), rtol=1e-6, atol=1e-6,
                                   err_msg=mode)


# (expression, expected value, dtype, weak) -- dtypes and weak types as JAX gives them.
ARRAY_CASES = [
    (lambda: pnp.asarray(1.0), 1.0, F32, True),
    (lambda: pnp.array(1), 1, I32, True),
    (lambda: pnp.asarray(True), True, np.bool_, False),
    (lambda: pnp.array([1, 2.0]), [1.0, 2.0], F32, False),
    (lambda: pnp.array([1, 2]), [1, 2], I32, False),
    (lambda: pnp.array([pnp.float16(1), 2]), [1, 2], np.float16, False),
    (lambda: pnp.array(np.float64(2)), 2.0, F32, False),
    (lambda: pnp.array(np.array([1, 2], np.int64)), [1, 2], I32, False),
    (lambda: pnp.array([1, 2], dtype=float), [1, 2], F32, False),
    (lambda: pnp.array([[1, 2], [3, 4]], dtype="int8"), [[1, 2], [3, 4]], np.int8, False),
    (lambda: pnp.array([]), np.zeros((0,)), F32, False),
    (lambda: pnp.array(1.5, dtype=pnp.int32), 1, I32, False),
    (lambda: pnp.array([pnp.asarray(1.0), 2]), [1.0, 2.0], F32, False),
    (lambda: pnp.array([[1.0], [2.0]], ndmin=3), [[[1.0], [2.0]]], F32, False),
    (lambda: pnp.array(np.ones(2, bfloat16)), [1, 1], bfloat16, False),
    (lambda: pnp.zeros(3), np.zeros(3), F32, False),
    (lambda: pnp.ones((2, 3), dtype=bool), np.ones((2, 3), bool), np.bool_, False),
    (lambda: pnp.empty((2,), dtype=pnp.int8), [0, 0], np.int8, False),
    (lambda: pnp.zeros(3, dtype=pnp.float64), np.zeros(3), F32, False),  # x64 disabled
    (lambda: pnp.zeros(np.int64(2)), np.zeros(2), F32, False),
    (lambda: pnp.full(3, 1.0), [1.0, 1.0, 1.0], F32, True),
    (lambda: pnp.full((2,), 7, dtype=pnp.uint8), [7, 7], np.uint8, False),
    (lambda: pnp.full((2, 2), pnp.asarray(np.array([1, 2]))), [[1, 2], [1, 2]], I32, False),
    (lambda: pnp.zeros_like(pnp.asarray(1.0)), 0.0, F32, True),
    (lambda: pnp.zeros_like(3.0), 0.0, F32, True),
    (lambda: pnp.ones_like(pnp.ones((2, 3)), shape=(4,)), np.ones(4), F32, False),
    (lambda: pnp.empty_like(pnp.ones((2,)), dtype=pnp.int8), [0, 0], np.int8, False),
    (lambda: pnp.full_like(pnp.arange(3), 2.5), [2, 2, 2], I32, False),
    (lambda: pnp.full_like(pnp.ones(2), 3, dtype=pnp.float16), [3, 3], np.float16, False),
]


@pytest.mark.parametrize("index", range(len(ARRAY_CASES)))
def test_array_constructors(index):
    fn, expected, dtype, weak = ARRAY_CASES[index]
    check(fn, expected, dtype, weak)


RANGE_CASES = [
    (lambda: pnp.arange(5), np.arange(5), I32),
    (lambda: pnp.arange(5.0), np.arange(5.0), F32),
    (lambda: pnp.arange(1, 5, 2), [1, 3], I32),
    (lambda: pnp.arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], F32),
    (lambda: pnp.arange(5, 0, -1.5), [5, 3.5, 2, 0.5], F32),
    (lambda: pnp.arange(2.5), [0, 1, 2], F32),
    (lambda: pnp.arange(-3), np.zeros(0), I32),
    (lambda: pnp.arange(5, dtype=pnp.float16), np.arange(5), np.float16),
    (lambda: pnp.arange(0, 1, 0.1, dtype=bfloat16), np.arange(0, 1, 0.1), bfloat16),
    (lambda: pnp.arange(np.int64(3)), [0, 1, 2], I32),
    (lambda: pnp.linspace(0, 1, 5), np.linspace(0, 1, 5), F32),
    (lambda: pnp.linspace(0, 1, 4, endpoint=False), [0, 0.25, 0.5, 0.75], F32),
    (lambda: pnp.linspace(0, 10, 5, dtype=int), [0, 2, 5, 7, 10], I32),
    (lambda: pnp.linspace(-10, 0, 5, dtype=int), [-10, -8, -5, -3, 0], I32),
    (lambda: pnp.linspace(0, 1, 5, dtype=pnp.float16), np.linspace(0, 1, 5), np.float16),
    (lambda: pnp.linspace(0, 1, 1), [0.0], F32),
    (lambda: pnp.linspace(0, 1, 0), np.zeros(0), F32),
    (lambda: pnp.linspace(pnp.asarray(np.array([0.0, 1.0])), pnp.asarray(np.array([1.0, 3.0])),
                          3, axis=1), [[0, 0.5, 1], [1, 2, 3]], F32),
    (lambda: pnp.linspace(np.array([0.0, 1.0]), 2.0, 3), [[0, 1], [1, 1.5], [2, 2]], F32),
    (lambda: pnp.eye(3), np.eye(3), F32),
    (lambda: pnp.eye(2, 3, k=1), np.eye(2, 3, k=1), F32),
    (lambda: pnp.eye(3, k=-1, dtype=bool), np.eye(3, k=-1, dtype=bool), np.bool_),
    (lambda: pnp.identity(2, dtype=pnp.int8), np.identity(2), np.int8),
    (lambda: pnp.tri(3, 4, k=1), np.tri(3, 4, k=1), F32),
    (lambda: pnp.tril(pnp.ones((3, 3))), np.tril(np.ones((3, 3))), F32),
    (lambda: pnp.triu(pnp.ones((2, 3, 3)), k=1), np.triu(np.ones((2, 3, 3)), k=1), F32),
]


@pytest.mark.parametrize("index", range(len(RANGE_CASES)))
def test_ranges(index):
    fn, expected, dtype = RANGE_CASES[index]
    check(fn, expected, dtype)


def test_linspace_retstep():
    samples, step = pnp.linspace(0, 1, 5, retstep=True)
    assert float(step) == 0.25 and samples.shape == (5,)
    _, step = pnp.linspace(0, 1, 1, retstep=True)
    assert np.isnan(float(step))


def test_array_of_traced_values_stacks_them():
    def f(x, y):
        return pnp.array([[x, y], [y, 1.0]])

    x, y = pnp.asarray(np.float32(2)), pnp.asarray(np.float32(3))
    check(f, [[2, 3], [3, 1]], F32, args=(x, y))
    check(lambda x: pnp.asarray([x, x], dtype=pnp.int8), [2, 2], np.int8, args=(x,))


def test_arange_needs_concrete_bounds():
    with pytest.raises(ConcretizationTypeError, match="static_argnums") as info:
        plax.jit(lambda n: pnp.arange(n))(3)
    assert "arange" in str(info.value) and "'stop'" in str(info.value)
    out = plax.jit(lambda n: pnp.arange(n), static_argnums=0)(3)
    np.testing.assert_array_equal(np.asarray(out), [0, 1, 2])
    # A concrete array bound works eagerly (inside jit, pnp.asarray(3) is traced, as in JAX).
    np.testing.assert_array_equal(np.asarray(pnp.arange(pnp.asarray(3))), [0, 1, 2])


BAD_INPUT = [
    (lambda: pnp.zeros((-1, 2)), ValueError, "negative"),
    (lambda: pnp.ones((2, 3.0)), TypeError, "integer"),
    (lambda: pnp.array([1, 2], dtype="foo"), TypeError, "foo"),
    (lambda: pnp.zeros(3, dtype="complex64"), TypeError, "complex64"),
    (lambda: pnp.array(2**40), OverflowError, "int32"),
    (lambda: pnp.array([300], dtype=pnp.int8), OverflowError, "int8"),
    (lambda: pnp.array(-1, dtype=pnp.uint8), OverflowError, "uint8"),
    (lambda: pnp.array("abc"), TypeError, "abc"),
    (lambda: pnp.array([[1], [2, 3]]), ValueError, "inhomogeneous"),
    (lambda: pnp.full((2,), [1, 2]), TypeError, "list"),
    (lambda: pnp.arange(0, 5, 0), ValueError, "step"),
    (lambda: pnp.arange(pnp.ones(2)), ValueError, "scalars"),
    (lambda: pnp.linspace(0, 1, -1), ValueError, "non-negative"),
    (lambda: pnp.eye(-2), ValueError, "negative"),
    (lambda: pnp.array([1.0], order="F"), NotImplementedError, "order"),
]


@pytest.mark.parametrize("index", range(len(BAD_INPUT)))
def test_bad_input(index):
    fn, error, pattern = BAD_INPUT[index]
    with pytest.raises(error, match=pattern):
        fn()


def test_x64_mode_gives_64_bit_defaults(x64):
    assert pnp.zeros(2).dtype == np.float64
    assert pnp.arange(3).dtype == np.int64
    assert pnp.array([1.5]).dtype == np.float64
    assert pnp.asarray(1.0).dtype == np.float64 and pnp.asarray(1.0).weak_type
