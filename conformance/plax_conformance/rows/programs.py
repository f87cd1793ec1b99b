"""Multi-operation programs. Under jit the backend sees the whole program, so these rows
exercise fusion (elementwise chains, broadcasts and layout changes folded into index
arithmetic, reductions with their producers) as well as the single operations; eagerly
they run op by op. When one fails under jit, the report carries the smallest failing
sub-program (see ``plax_conformance.shrink``).
"""

from __future__ import annotations

import numpy as np

import plax.numpy as pnp
from plax import dtypes, lax

from plax_conformance import oracles
from plax_conformance.generators import floats, small_ints
from plax_conformance.oracles import float_op as F
from plax_conformance.registry import program
from plax_conformance.spec import ALL, INTEGERS, NUMERIC, Arg, each, samples, transposed
from plax_conformance.tolerance import BITWISE, ulp

SHAPES = samples((7,), (3, 5), (37, 129), transposed((5, 3)), (0, 4))
MATS = samples((3, 5), (1, 7), (17, 33), transposed((5, 3)))
_F = ("float32", "float16", "bfloat16", "float64")


# -- elementwise chains ------------------------------------------------------------
def _chain(x, y):
    return (x * y + pnp.sin(x)) / (1 + pnp.abs(y))


program("program.elementwise_chain", _chain, _F, arity=2, gen=floats(-3, 3), shapes=SHAPES,
        specials=True, tol=ulp(8, atol=4, half=4),
        numpy=lambda x, y: (x * y + np.sin(x)) / (1 + np.abs(y)))  # overflows as plax does


def _int_chain(x, y):
    return (x * 3 + y) ^ (x - (y >> 1))


program("program.integer_chain", _int_chain, INTEGERS, arity=2, shapes=SHAPES, specials=True,
        requires=("numpy.right_shift",),
        numpy=lambda x, y: oracles.wrap(
            np.bitwise_xor((x.astype(object) * 3 + y.astype(object)),
                           x.astype(object) - (y.astype(object) >> 1)), x.dtype))


def _select_mask(x, y):
    return pnp.where(x > 0, x, y + y)


program("program.select_mask", _select_mask, NUMERIC, arity=2, shapes=SHAPES, specials=True,
        numpy=lambda x, y: np.where(x > 0, x, y + y))


def _scalars(x):
    # Python scalars are weakly typed: they take x's dtype and appear as literals.
    return x * 2 + 1, x - 3, 2 - x


def _scalars_np(x):
    if dtypes.is_integer(x.dtype):
        big = x.astype(object)
        return tuple(oracles.wrap(v, x.dtype) for v in (big * 2 + 1, big - 3, 2 - big))
    return F(lambda v: (v * 2 + 1, v - 3, 2 - v))(x)


program("program.weak_scalars", _scalars, NUMERIC, arity=1, shapes=SHAPES,
        gen=small_ints(-50, 50), numpy=_scalars_np)


def _mixed_dtypes(x):
    as_int = lax.convert_element_type(x * 4, "int32")
    back = lax.convert_element_type(as_int + 1, "float16")
    return lax.convert_element_type(back * 2, "float32") - x


program("program.mixed_dtypes", _mixed_dtypes, ("float32",), arity=1, shapes=SHAPES,
        gen=floats(-100, 100), specials=True,
        numpy=lambda x: ((oracles.convert(x * 4, np.int32) + np.int32(1)).astype(np.float16)
                         * np.float16(2)).astype(np.float32) - x)


def _passthrough(x):
    # Outputs that are an input, a constant and a computed value at once.
    return x, 3.0, x + x


program("program.outputs_input_and_literal", _passthrough, ("float32", "int32"), arity=1,
        shapes=SHAPES, tol=BITWISE,
        numpy=lambda x: (x, np.float32(3.0), x + x))

# -- broadcasting, reductions and layouts ---------------------------------------------


def _softmax(x):
    shifted = x - pnp.max(x, axis=-1, keepdims=True)
    e = pnp.exp(shifted)
    return e / pnp.sum(e, axis=-1, keepdims=True)


def _softmax_np(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


program("program.softmax", _softmax, _F, arity=1, gen=floats(-5, 5, specials=None),
        shapes=MATS, tol=ulp(16, atol=4, half=4), numpy=F(_softmax_np))


def _pairwise(x, y):
    return pnp.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)


program("program.pairwise_distances", _pairwise, ("float32", "int32", "float16", "float64"),
        arity=2, gen=small_ints(), shapes=(each((3, 4), (5, 4)), each((1, 2), (6, 2)),
                                           each((0, 3), (2, 3))),
        numpy=F(lambda x, y: np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)))


def _center(x):
    return x - pnp.mean(x, axis=0)


program("program.center_columns", _center, _F, arity=1, gen=small_ints(), shapes=MATS,
        tol=ulp(4, atol=4, half=2), numpy=F(lambda x: x - np.mean(x, axis=0)))


def _layernorm(x):
    mean = pnp.mean(x, axis=-1, keepdims=True)
    var = pnp.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + 1e-5)


program("program.layer_norm", _layernorm, _F, arity=1, gen=floats(-3, 3, specials=None),
        shapes=MATS, tol=ulp(32, atol=32, half=4),
        numpy=F(lambda x: (x - x.mean(-1, keepdims=True)) /
                np.sqrt(((x - x.mean(-1, keepdims=True)) ** 2).mean(-1, keepdims=True) + 1e-5)))


def _layout(x):
    t = lax.transpose(x, (1, 0))
    r = lax.rev(t, (0,))
    s = lax.slice(r, (0, 0), (r.shape[0], r.shape[1]), (2, 1))
    c = lax.concatenate([s, s], 1)
    return lax.reshape(c + c, (c.shape[0] * c.shape[1],))


program("program.layout_chain", _layout, NUMERIC, arity=1, shapes=MATS, tol=BITWISE,
        requires=("lax.rev", "lax.concatenate"),
        numpy=lambda x: np.concatenate([np.flip(x.T, 0)[::2]] * 2, 1).reshape(-1) * 2)


def _cumulative(x):
    return pnp.cumsum(x, axis=1) * pnp.sum(x, axis=1, keepdims=True)


program("program.scan_and_reduce", _cumulative, ("float32", "int32", "bfloat16"), arity=1,
        gen=small_ints(-2, 2), shapes=MATS,
        numpy=F(lambda x: np.cumsum(x, 1) * np.sum(x, 1, keepdims=True)))


def _one_hot_argmax(x):
    best = pnp.argmax(x, axis=1)
    return (lax.broadcasted_iota("int32", x.shape, 1) == best[:, None]).astype("float32")


program("program.one_hot_argmax", _one_hot_argmax, ("float32", "int32", "float16"), arity=1,
        shapes=MATS, numpy=lambda x: (np.arange(x.shape[1])[None, :] ==
                                      np.argmax(x.astype(np.float64), 1)[:, None]).astype(
            np.float32))


def _multi_output(x):
    return pnp.sum(x, axis=0), pnp.max(x, axis=1), x * 2


program("program.multiple_outputs", _multi_output, ("float32", "int32", "uint8"), arity=1,
        gen=small_ints(0, 3), shapes=MATS,
        numpy=lambda x: (np.sum(x, 0), np.max(x, 1), x * 2))

# -- contractions in context --------------------------------------------------------------


def _mlp(x, w, b):
    return pnp.maximum(x @ w + b, 0)


program("program.dense_relu", _mlp, ("float32", "int32", "float16", "bfloat16", "float64"),
        arity=3, gen=small_ints(),
        shapes=(each((4, 3), (3, 5), (5,)), each((1, 8), (8, 2), (2,)), each((0, 3), (3, 4), (4,))),
        numpy=F(lambda x, w, b: np.maximum(x @ w + b, 0)))


def _conv_pool(x, k):
    y = lax.conv_general_dilated(x, k, (1, 1), "SAME")
    y = pnp.maximum(y, 0)
    return lax.reduce_window_max(y, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


program("program.conv_relu_pool", _conv_pool, ("float32", "float16", "float64"), arity=2,
        gen=small_ints(),
        shapes=(each((2, 3, 6, 6), (4, 3, 3, 3)), each((1, 1, 4, 5), (2, 1, 1, 1))),
        numpy=lambda x, k: oracles.reduce_window("max")(
            np.maximum(oracles.conv_general_dilated(x, k, (1, 1), "SAME"), 0),
            (1, 1, 2, 2), (1, 1, 2, 2), "VALID"))


def _attention(q, k, v):
    scores = q @ lax.transpose(k, (1, 0))
    return _softmax(scores * 0.5) @ v


program("program.attention", _attention, ("float32", "float64"), arity=3,
        gen=floats(-1, 1, specials=None),
        shapes=(each((4, 8), (6, 8), (6, 3)), each((1, 2), (1, 2), (1, 5))),
        tol=ulp(64, atol=64),
        numpy=lambda q, k, v: _softmax_np((q @ k.T) * 0.5) @ v)

# -- indexing ---------------------------------------------------------------------------


def _dynamic(x, i):
    window = lax.dynamic_slice(x, (i, i + 1), (2, 2))
    return lax.dynamic_update_slice(x, window * 2, (i + 2, 0))


def _dynamic_np(x, i):
    def clamp(start, size, n):
        start = start + size if start < 0 else start
        return min(max(start, 0), size - n)

    r = clamp(int(i), x.shape[0], 2)
    c = clamp(int(i) + 1, x.shape[1], 2)
    window = x[r:r + 2, c:c + 2] * 2
    out = np.array(x, copy=True)
    r2 = clamp(int(i) + 2, x.shape[0], 2)
    out[r2:r2 + 2, 0:2] = window
    return out


program("program.dynamic_indexing", _dynamic, ("float32", "int32", "uint8"), arity=2,
        args=(Arg(small_ints(0, 9)), Arg(small_ints(-6, 6), dtype="int32", shape=())),
        shapes=((4, 5), (6, 3), transposed((5, 4))), numpy=_dynamic_np)


def _sort_rows(x):
    keys, order = lax.sort((x, lax.broadcasted_iota("int32", x.shape, 1)), dimension=1,
                           num_keys=1)
    return keys[:, ::-1], order


program("program.sort_then_reverse", _sort_rows, ALL, arity=1, gen=small_ints(-2, 2),
        shapes=MATS,
        numpy=lambda x: (oracles.sort_operands(x, dimension=1)[0][:, ::-1],
                         oracles.sort_operands(x, np.broadcast_to(
                             np.arange(x.shape[1], dtype=np.int32), x.shape),
                             dimension=1)[1]))


def _constant_program(*, dtype):
    return pnp.arange(6, dtype=dtype).reshape(2, 3) * 2 + 1


program("program.no_inputs", _constant_program, ("int32", "float32", "uint8"), arity=0,
        shapes=((),), dtype_param="dtype",
        numpy=lambda *, dtype: (np.arange(6).reshape(2, 3) * 2 + 1).astype(dtype))
