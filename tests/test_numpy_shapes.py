"""plax.numpy shape manipulation, joining and splitting against numpy, eager and under jit,
plus the errors for bad shapes and axes."""

import numpy as np
import pytest

import plax
import plax.numpy as pnp

X = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
V = np.arange(5, dtype=np.float32)
M = np.arange(12, dtype=np.float32).reshape(3, 4)


def check(fn, args, expected):
    """fn(*args) eagerly and under jit equals ``expected`` (a numpy value or a list of them)."""
    plax_args = [pnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    for mode, out in (("eager", fn(*plax_args)), ("jit", plax.jit(fn)(*plax_args))):
        outs = out if isinstance(out, (list, tuple)) else [out]
        exps = expected if isinstance(expected, (list, tuple)) else [expected]
        assert len(outs) == len(exps), mode
        for got, exp in zip(outs, exps):
            exp = np.asarray(exp)
            assert got.shape == exp.shape, (mode, got.shape, exp.shape)
            assert np.asarray(got).dtype == exp.dtype, (mode, np.asarray(got).dtype, exp.dtype)
            np.testing.assert_array_equal(np.asarray(got), exp, err_msg=mode)


# (plax call, numpy call, operands)
CASES = [
    ("reshape -1", lambda x: pnp.reshape(x, (4, -1)), lambda x: np.reshape(x, (4, -1)), [X]),
    ("reshape int", lambda x: pnp.reshape(x, 24), lambda x: np.reshape(x, 24), [X]),
    ("reshape 0-d", lambda x: pnp.reshape(x, ()), lambda x: np.reshape(x, ()), [V[:1]]),
    ("ravel", pnp.ravel, np.ravel, [X]),
    ("transpose", pnp.transpose, np.transpose, [X]),
    ("transpose axes", lambda x: pnp.transpose(x, (1, -1, 0)),
     lambda x: np.transpose(x, (1, 2, 0)), [X]),
    ("permute_dims", lambda x: pnp.permute_dims(x, (2, 0, 1)),
     lambda x: np.transpose(x, (2, 0, 1)), [X]),
    ("matrix_transpose", pnp.matrix_transpose, lambda x: np.swapaxes(x, -1, -2), [X]),
    ("swapaxes", lambda x: pnp.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1), [X]),
    ("moveaxis", lambda x: pnp.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), [X]),
    ("moveaxis many", lambda x: pnp.moveaxis(x, (0, 1), (2, 0)),
     lambda x: np.moveaxis(x, (0, 1), (2, 0)), [X]),
    ("squeeze", pnp.squeeze, np.squeeze, [X[:1, :, :1]]),
    ("squeeze axis", lambda x: pnp.squeeze(x, axis=-1), lambda x: np.squeeze(x, -1),
     [X[:1, :, :1]]),
    ("expand_dims", lambda x: pnp.expand_dims(x, 1), lambda x: np.expand_dims(x, 1), [X]),
    ("expand_dims tuple", lambda x: pnp.expand_dims(x, (0, -1)),
     lambda x: np.expand_dims(x, (0, -1)), [X]),
    ("broadcast_to", lambda x: pnp.broadcast_to(x, (2, 3, 5)),
     lambda x: np.broadcast_to(x, (2, 3, 5)), [V]),
    ("broadcast_arrays", lambda x, y: pnp.broadcast_arrays(x, y),
     lambda x, y: np.broadcast_arrays(x, y), [M[:, :1], V[:4]]),
    ("flip", pnp.flip, np.flip, [X]),
    ("flip axis", lambda x: pnp.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2)), [X]),
    ("fliplr", pnp.fliplr, np.fliplr, [M]),
    ("flipud", pnp.flipud, np.flipud, [M]),
    ("rot90", lambda x: pnp.rot90(x), np.rot90, [M]),
    ("rot90 k=3", lambda x: pnp.rot90(x, 3, (1, 2)), lambda x: np.rot90(x, 3, (1, 2)), [X]),
    ("roll", lambda x: pnp.roll(x, 2), lambda x: np.roll(x, 2), [X]),
    ("roll axis", lambda x: pnp.roll(x, -1, axis=1), lambda x: np.roll(x, -1, axis=1), [X]),
    ("roll axes", lambda x: pnp.roll(x, (1, 5), axis=(0, 2)),
     lambda x: np.roll(x, (1, 5), axis=(0, 2)), [X]),
    ("tile", lambda x: pnp.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), [M]),
    ("tile int", lambda x: pnp.tile(x, 3), lambda x: np.tile(x, 3), [V]),
    ("repeat", lambda x: pnp.repeat(x, 2), lambda x: np.repeat(x, 2), [M]),
    ("repeat axis", lambda x: pnp.repeat(x, 3, axis=1), lambda x: np.repeat(x, 3, axis=1), [M]),
    ("repeat counts", lambda x: pnp.repeat(x, [1, 0, 2], axis=0),
     lambda x: np.repeat(x, [1, 0, 2], axis=0), [M]),
    ("atleast_1d", pnp.atleast_1d, np.atleast_1d, [np.float32(3)]),
    ("atleast_2d", pnp.atleast_2d, np.atleast_2d, [V]),
    ("atleast_3d", pnp.atleast_3d, np.atleast_3d, [M]),
    ("astype", lambda x: pnp.astype(x, pnp.int8), lambda x: x.astype(np.int8), [V - 2.5]),
    ("diagonal", lambda x: pnp.diagonal(x, 1), lambda x: np.diagonal(x, 1), [M]),
    ("diagonal axes", lambda x: pnp.diagonal(x, -1, 2, 0), lambda x: np.diagonal(x, -1, 2, 0),
     [X]),
    ("trace", pnp.trace, lambda x: np.trace(x).astype(np.int32), [X]),
    ("concatenate", lambda x, y: pnp.concatenate([x, y], axis=1),
     lambda x, y: np.concatenate([x, y], axis=1), [M, M[:, :2]]),
    ("concatenate promotes", lambda x, y: pnp.concatenate([x, y]),
     lambda x, y: np.concatenate([x, y]).astype(np.float32), [V, X[0, 0]]),
    ("concatenate None", lambda x, y: pnp.concatenate([x, y], axis=None),
     lambda x, y: np.concatenate([x, y], axis=None).astype(np.float32), [M, V]),
    ("stack", lambda x, y: pnp.stack([x, y], axis=-1), lambda x, y: np.stack([x, y], -1),
     [M, M + 1]),
    ("vstack", lambda x, y: pnp.vstack([x, y]), lambda x, y: np.vstack([x, y]), [V, V]),
    ("hstack", lambda x, y: pnp.hstack([x, y]), lambda x, y: np.hstack([x, y]), [M, M]),
    ("dstack", lambda x, y: pnp.dstack([x, y]), lambda x, y: np.dstack([x, y]), [M, M]),
    ("column_stack", lambda x, y: pnp.column_stack([x, y]),
     lambda x, y: np.column_stack([x, y]), [V, V]),
    ("append", lambda x, y: pnp.append(x, y), lambda x, y: np.append(x, y), [M, V]),
    ("split", lambda x: pnp.split(x, 2, axis=2), lambda x: np.split(x, 2, axis=2), [X]),
    ("split indices", lambda x: pnp.split(x, [1, 3, 10]), lambda x: np.split(x, [1, 3, 10]),
     [V]),
    ("array_split", lambda x: pnp.array_split(x, 3), lambda x: np.array_split(x, 3), [V]),
    ("hsplit", lambda x: pnp.hsplit(x, 2), lambda x: np.hsplit(x, 2), [M]),
    ("vsplit", lambda x: pnp.vsplit(x, [1]), lambda x: np.vsplit(x, [1]), [M]),
]


@pytest.mark.parametrize("name,fn,np_fn,args", CASES, ids=[c[0] for c in CASES])
def test_against_numpy(name, fn, np_fn, args):
    check(fn, args, np_fn(*args))


def test_roll_with_traced_shift():
    f = plax.jit(lambda x, s: pnp.roll(x, s))
    for shift in (-7, -1, 0, 2, 5, 13):
        np.testing.assert_array_equal(np.asarray(f(pnp.asarray(V), shift)), np.roll(V, shift))


def test_weak_type_survives_layout_changes():
    w = pnp.full((2, 3), 1.0)
    assert w.weak_type
    for out in (pnp.reshape(w, -1), pnp.transpose(w), pnp.concatenate([w, w]),
                pnp.stack([w, w]), pnp.tile(w, 2), pnp.flip(w), pnp.expand_dims(w, 0)):
        assert out.weak_type


ERRORS = [
    (lambda: pnp.reshape(pnp.ones((2, 3)), (4, 2)), ValueError, r"\(2, 3\).*\(4, 2\)"),
    (lambda: pnp.reshape(pnp.ones((2, 3)), (-1, 4)), ValueError, "cannot reshape"),
    (lambda: pnp.reshape(pnp.ones((2, 3)), (-1, -1)), ValueError, "one unknown"),
    (lambda: pnp.reshape(pnp.ones((2, 3)), (3, 2), order="F"), NotImplementedError, "order"),
    (lambda: pnp.transpose(pnp.ones((2, 3)), (0, 0)), ValueError, "repeated"),
    (lambda: pnp.transpose(pnp.ones((2, 3)), (0,)), ValueError, "axes"),
    (lambda: pnp.swapaxes(pnp.ones((2, 3)), 0, 2), ValueError, "out of bounds"),
    (lambda: pnp.squeeze(pnp.ones((2, 3)), 0), ValueError, "size not equal to one"),
    (lambda: pnp.expand_dims(pnp.ones((2, 3)), 4), ValueError, "out of bounds"),
    (lambda: pnp.broadcast_to(pnp.ones(3), (2, 4)), ValueError, r"\(3,\).*\(2, 4\)"),
    (lambda: pnp.broadcast_arrays(pnp.ones(3), pnp.ones(2)), ValueError, r"\(3,\), \(2,\)"),
    (lambda: pnp.concatenate([pnp.ones((2, 3)), pnp.ones((2, 4))]), ValueError, "must match"),
    (lambda: pnp.concatenate([pnp.ones((2, 3)), pnp.ones(3)]), ValueError, "dimensions"),
    (lambda: pnp.concatenate([]), ValueError, "at least one"),
    (lambda: pnp.stack([pnp.ones(2), pnp.ones(3)]), ValueError, "same shape"),
    (lambda: pnp.split(pnp.ones(5), 2), ValueError, "equal division"),
    (lambda: pnp.repeat(pnp.ones(3), [1, 2]), ValueError, "repeats"),
    (lambda: pnp.repeat(pnp.ones(3), -1), ValueError, "negative"),
    (lambda: pnp.moveaxis(pnp.ones((2, 3)), (0, 1), 0), ValueError, "same number"),
    (lambda: pnp.astype(pnp.ones(2), "not-a-dtype"), TypeError, "not-a-dtype"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    fn, error, pattern = ERRORS[index]
    with pytest.raises(error, match=pattern):
        fn()
