"""Operators and methods of plax.Array and tracers: each is checked against numpy eagerly
and under jit (where the operands are tracers)."""

import operator

import numpy as np
import pytest

import plax
import plax.numpy as pnp

A = np.array([[1, -2, 3], [4, 0, -6]], np.int32)
B = np.array([[2, 3, -1], [1, 5, 2]], np.int32)
F = np.array([[1.5, -2.0, 0.25], [4.0, 0.5, -6.0]], np.float32)


def check(fn, args, expected):
    expected = np.asarray(expected)
    plax_args = [pnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    for mode, out in (("eager", fn(*plax_args)), ("jit", plax.jit(fn)(*plax_args))):
        got = np.asarray(out)
        assert got.dtype == expected.dtype, (mode, got.dtype, expected.dtype)
        assert got.shape == expected.shape, (mode, got.shape, expected.shape)
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                                   rtol=1e-6, atol=1e-6, err_msg=mode)


BINARY_OPERATORS = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
    operator.mod, operator.and_, operator.or_, operator.xor, operator.lt, operator.le,
    operator.gt, operator.ge, operator.eq, operator.ne,
]


def _np_result(op, x, y):
    out = op(x, y)
    if op is operator.truediv:
        return out.astype(np.float32)
    return np.asarray(out).astype(np.int32) if out.dtype == np.int64 else out


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=[o.__name__ for o in BINARY_OPERATORS])
def test_binary_operators(op):
    b = np.where(B == 0, 1, B).astype(np.int32)
    check(op, [A, b], _np_result(op, A, b))
    # Reflected forms: a Python scalar or numpy array on the left.
    check(lambda y: op(7, y), [b], _np_result(op, np.int32(7), b))
    check(lambda x: op(x, 3), [A], _np_result(op, A, np.int32(3)))


def test_numpy_array_on_the_left_defers_to_plax():
    out = np.ones(3, np.float32) + pnp.ones(3)
    assert isinstance(out, plax.Array)
    out = np.float32(2.0) * pnp.arange(3)
    assert isinstance(out, plax.Array) and out.dtype == np.float32


def test_power_shift_matmul_and_unary_operators():
    small = np.array([[1, 2, 3], [0, 1, 2]], np.int32)
    check(lambda x: x ** 2, [A], A ** 2)
    check(lambda x, y: x ** y, [A, small], A ** small)
    check(lambda x: 2 ** x, [small], 2 ** small)
    check(lambda x, y: x << y, [A, small], A << small)
    check(lambda x, y: x >> y, [A, small], A >> small)
    check(lambda x: 1 << x, [small], (1 << small).astype(np.int32))
    check(lambda x, y: x @ y, [F, F.T.copy()], F @ F.T)
    check(lambda x: x @ np.ones(3, np.float32), [F], F @ np.ones(3, np.float32))
    check(lambda x: -x, [A], -A)
    check(lambda x: +x, [A], A)
    check(lambda x: abs(x), [A], np.abs(A))
    check(lambda x: ~x, [A], ~A)
    check(lambda x: divmod(x, 4)[1], [A], A % 4)
    check(lambda x: round(x), [F], np.round(F))
    check(lambda x: round(x, 1), [F], np.round(F, 1))


class Unknown:
    pass


def test_unknown_operands_give_python_type_errors():
    x = pnp.ones(2)
    for op in (operator.add, operator.mul, operator.lt, operator.matmul, operator.and_):
        with pytest.raises(TypeError, match="unsupported|not supported"):
            op(x, Unknown())
        with pytest.raises(TypeError, match="unsupported|not supported"):
            op(Unknown(), x)
    with pytest.raises(TypeError):
        x + [1, 2]
    assert (x == Unknown()) is False
    assert (x != Unknown()) is True


METHODS = [
    ("reshape tuple", lambda x: x.reshape((3, 2)), lambda x: x.reshape((3, 2))),
    ("reshape ints", lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2)),
    ("reshape -1", lambda x: x.reshape(-1), lambda x: x.reshape(-1)),
    ("transpose", lambda x: x.transpose(), lambda x: x.transpose()),
    ("transpose ints", lambda x: x.transpose(1, 0), lambda x: x.transpose(1, 0)),
    ("transpose tuple", lambda x: x.transpose((1, 0)), lambda x: x.transpose((1, 0))),
    ("T", lambda x: x.T, lambda x: x.T),
    ("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2)),
    ("ravel", lambda x: x.ravel(), lambda x: x.ravel()),
    ("flatten", lambda x: x.flatten(), lambda x: x.flatten()),
    ("squeeze", lambda x: x[:1].squeeze(), lambda x: x[:1].squeeze()),
    ("swapaxes", lambda x: x.swapaxes(0, 1), lambda x: x.swapaxes(0, 1)),
    ("astype", lambda x: x.astype(pnp.int8), lambda x: x.astype(np.int8)),
    ("astype str", lambda x: x.astype("float16"), lambda x: x.astype(np.float16)),
    ("sum", lambda x: x.sum(), lambda x: x.sum()),
    ("sum axis", lambda x: x.sum(axis=0, keepdims=True), lambda x: x.sum(0, keepdims=True)),
    ("prod", lambda x: x.prod(1), lambda x: x.prod(1)),
    ("mean", lambda x: x.mean(), lambda x: x.mean()),
    ("var", lambda x: x.var(0), lambda x: x.var(0)),
    ("std", lambda x: x.std(ddof=1), lambda x: x.std(ddof=1)),
    ("max", lambda x: x.max(1), lambda x: x.max(1)),
    ("min", lambda x: x.min(), lambda x: x.min()),
    ("argmax", lambda x: x.argmax(), lambda x: np.int32(x.argmax())),
    ("argmin", lambda x: x.argmin(0), lambda x: x.argmin(0).astype(np.int32)),
    ("any", lambda x: (x > 3).any(), lambda x: (x > 3).any()),
    ("all", lambda x: (x > -7).all(0), lambda x: (x > -7).all(0)),
    ("cumsum", lambda x: x.cumsum(1), lambda x: x.cumsum(1)),
    ("cumprod", lambda x: x.cumprod(), lambda x: x.cumprod()),
    ("clip", lambda x: x.clip(-1, 1), lambda x: x.clip(-1, 1)),
    ("clip min", lambda x: x.clip(min=0), lambda x: x.clip(min=0)),
    ("round", lambda x: x.round(), lambda x: x.round()),
    ("dot", lambda x: x.dot(x.T), lambda x: x.dot(x.T)),
    ("sort", lambda x: x.sort(), lambda x: np.sort(x)),
    ("sort axis", lambda x: x.sort(axis=0), lambda x: np.sort(x, axis=0)),
    ("argsort", lambda x: x.argsort(), lambda x: x.argsort(kind="stable").astype(np.int32)),
    ("ptp", lambda x: x.ptp(), lambda x: np.ptp(x)),
    ("repeat", lambda x: x.repeat(2, axis=0), lambda x: x.repeat(2, axis=0)),
    ("diagonal", lambda x: x.diagonal(), lambda x: x.diagonal()),
    ("trace", lambda x: x.trace(), lambda x: np.trace(x)),
    ("copy", lambda x: x.copy(), lambda x: x.copy()),
]


@pytest.mark.parametrize("name,method,np_method", METHODS, ids=[m[0] for m in METHODS])
def test_methods(name, method, np_method):
    expected = np.asarray(np_method(F))
    if expected.dtype == np.float64:
        expected = expected.astype(np.float32)
    check(method, [F], expected)


def test_integer_sums_keep_jax_dtypes():
    check(lambda x: x.sum(), [A], np.int32(A.sum()))
    check(lambda x: x.mean(), [A], np.float32(A.mean()))


def test_item_and_conversions():
    x = pnp.asarray(F)
    assert x[0, 2].item() == 0.25
    assert float(x[1, 0]) == 4.0
    assert x.tolist() == F.tolist()
    assert len(x) == 2
    rows = list(x)
    assert len(rows) == 2 and rows[1].shape == (3,)


def test_methods_on_tracers_match_eager():
    def f(x):
        y = (x - x.mean(0)) / x.std(0)
        return y.T.reshape(-1)[::2].at[0].add(1.0), x.astype(pnp.int32).argmax(1)

    eager = f(pnp.asarray(F))
    jitted = plax.jit(f)(pnp.asarray(F))
    for e, j in zip(eager, jitted):
        np.testing.assert_allclose(np.asarray(e), np.asarray(j), rtol=1e-6)


def test_weak_scalar_promotion_through_operators():
    h = pnp.ones(3, dtype=pnp.float16)
    assert (h + 1.0).dtype == np.float16
    assert (1.0 * h).dtype == np.float16
    i = pnp.ones(3, dtype=pnp.int32)
    assert (i + 1.5).dtype == np.float32
    assert (i / 2).dtype == np.float32
    assert (pnp.ones(3, dtype=pnp.int8) + 1).dtype == np.int8
    assert (pnp.ones(3, dtype=pnp.uint8) * 2).dtype == np.uint8
