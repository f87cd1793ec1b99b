"""Control flow and transformations: ``lax.cond``/``switch``/``while_loop``/``fori_loop``/
``scan``, ``stop_gradient``, ``checkpoint``, custom derivatives, ``grad``/``jvp``/``vjp``
and ``vmap``. The backend runs the programs these produce (sub-jaxprs for control flow,
the derivative programs for autodiff); the oracles are written with numpy and the
derivatives worked out by hand.

Functions with custom derivatives are built on first use, so that this module imports
with a plax that lacks them (their rows are then unavailable, not broken).
"""

from __future__ import annotations

import functools

import numpy as np

import plax
import plax.numpy as pnp
from plax import lax

from plax_conformance.generators import bools, floats, small_ints
from plax_conformance.oracles import float_op as F
from plax_conformance.registry import op, program
from plax_conformance.spec import NUMERIC, Arg, each, samples, transposed
from plax_conformance.tolerance import BITWISE, ulp

SHAPES = samples((), (7,), (3, 5), (0, 2), transposed((5, 3)))
_REAL = ("float32", "float64", "float16", "bfloat16")
_DERIV = ulp(8, atol=8, half=4)

# ----------------------------------------------------------------------------
# Control flow.


def _cond(p, x, y):
    return lax.cond(p, lambda a, b: a * b + 1, lambda a, b: a - b, x, y)


op(_cond, NUMERIC, name="lax.cond", primitives=("cond",), requires=("lax.cond",),
   args=(Arg(bools(), dtype="bool", shape=()), Arg(small_ints()), Arg(small_ints())),
   shapes=SHAPES, numpy=lambda p, x, y: np.where(p, x * y + 1, x - y).astype(x.dtype))


def _switch(i, x):
    branches = [lambda a: a + 1, lambda a: a * 2, lambda a: a - a]
    return lax.switch(i, branches, x)


def _switch_np(i, x):
    k = min(max(int(i), 0), 2)  # out-of-range indices clamp
    return [x + 1, x * 2, x - x][k].astype(x.dtype)


op(_switch, NUMERIC, name="lax.switch", subject="lax.cond", primitives=("cond",),
   requires=("lax.switch",),
   args=(Arg(small_ints(-2, 4), dtype="int32", shape=()), Arg(small_ints())),
   shapes=SHAPES, numpy=_switch_np,
   doc="an out-of-range branch index clamps to the first or last branch")


def _while(x):
    def body(carry):
        count, value = carry
        return count + 1, value * 2 + count

    return lax.while_loop(lambda c: c[0] < 5, body, (0, x))[1]


def _while_np(x):
    value = x.astype(np.float64) if x.dtype.kind == "f" else x.astype(np.int64)
    for count in range(5):
        value = value * 2 + count
    return value.astype(x.dtype)


op(_while, NUMERIC, name="lax.while_loop", primitives=("while",), requires=("lax.while_loop",),
   args=(Arg(small_ints()),), shapes=SHAPES, numpy=_while_np)


def _while_data_dependent(x):
    # The trip count depends on the data: double until the sum of squares passes 1000.
    return lax.while_loop(lambda v: pnp.sum(v * v) < 1000, lambda v: v * 2 + 1, x)


def _while_data_np(x):
    v = x.astype(np.float64)
    while np.sum(v * v) < 1000:
        v = v * 2 + 1
    return v.astype(x.dtype)


op(_while_data_dependent, ("float32", "int32", "float64"), name="lax.while_loop:data",
   subject="lax.while_loop", primitives=("while",), requires=("lax.while_loop",),
   args=(Arg(small_ints(0, 3)),), shapes=samples((3,), (2, 4), transposed((3, 2))),
   numpy=_while_data_np)


def _fori(x):
    return lax.fori_loop(0, 4, lambda i, c: c * 3 - i, x)


def _fori_np(x):
    v = x.astype(np.float64) if x.dtype.kind == "f" else x.astype(np.int64)
    for i in range(4):
        v = v * 3 - i
    return v.astype(x.dtype)


op(_fori, NUMERIC, name="lax.fori_loop", subject="lax.scan", primitives=(),
   requires=("lax.fori_loop",), args=(Arg(small_ints()),), shapes=SHAPES, numpy=_fori_np)


def _scan(init, xs):
    return lax.scan(lambda c, x: (c + x, c * x), init, xs)


def _scan_np(init, xs):
    carry = init
    ys = []
    for x in xs:
        ys.append(carry * x)
        carry = carry + x
    stacked = np.stack(ys) if ys else np.zeros((0,) + init.shape, init.dtype)
    return carry.astype(init.dtype), stacked.astype(init.dtype)


op(_scan, NUMERIC, name="lax.scan", primitives=("scan",), requires=("lax.scan",),
   args=(Arg(small_ints(-2, 2), shape=lambda s: s[1:]), Arg(small_ints(-2, 2))),
   shapes=samples((5,), (4, 3), (0, 2), (1, 1)), numpy=_scan_np)
op(lambda init, xs: lax.scan(lambda c, x: (c - x, c), init, xs, reverse=True), ("float32", "int32"),
   name="lax.scan:reverse", subject="lax.scan", primitives=("scan",), requires=("lax.scan",),
   args=(Arg(small_ints(-2, 2), shape=lambda s: s[1:]), Arg(small_ints(-2, 2))),
   shapes=samples((5,), (4, 3)),
   numpy=lambda init, xs: (init - xs.sum(0),
                           np.stack([init - xs[i + 1:].sum(0) for i in range(len(xs))])))

op("lax.stop_gradient", NUMERIC, shapes=SHAPES, tol=BITWISE, numpy=lambda x: x)

# ----------------------------------------------------------------------------
# checkpoint and custom derivatives.


def _sin_times(x):
    return pnp.sin(x) * x


program("transform.checkpoint", lambda x: plax.checkpoint(_sin_times)(x), _REAL,
        primitives=("checkpoint",), requires=("checkpoint",), kind="transform",
        gen=floats(-3, 3, specials=None), shapes=SHAPES, tol=ulp(4, atol=4, half=4),
        numpy=F(lambda x: np.sin(x) * x))
program("transform.grad_of_checkpoint",
        lambda x: plax.grad(lambda v: pnp.sum(plax.checkpoint(_sin_times)(v)))(x), _REAL,
        requires=("grad", "checkpoint"), kind="transform", subject="transform.checkpoint",
        gen=floats(-3, 3, specials=None), shapes=samples((7,), (3, 5)), tol=_DERIV,
        numpy=F(lambda x: np.cos(x) * x + np.sin(x)))


@functools.cache
def _softplus():
    @plax.custom_jvp
    def softplus(x):
        return pnp.log1p(pnp.exp(x))

    @softplus.defjvp
    def _jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t * lax.logistic(x)

    return softplus


@functools.cache
def _clipped_identity():
    @plax.custom_vjp
    def clipped(x):
        return x * 1

    def fwd(x):
        return clipped(x), None

    def bwd(_, g):
        return (pnp.clip(g, -0.5, 0.5),)

    clipped.defvjp(fwd, bwd)
    return clipped


program("transform.custom_jvp", lambda x: _softplus()(x), _REAL,
        primitives=("custom_jvp_call",), requires=("custom_jvp",), kind="transform",
        gen=floats(-5, 5, specials=None), shapes=SHAPES, tol=ulp(4, atol=2, half=4),
        numpy=F(lambda x: np.log1p(np.exp(x))))
program("transform.grad_of_custom_jvp",
        lambda x: plax.grad(lambda v: pnp.sum(_softplus()(v)))(x), _REAL,
        requires=("custom_jvp", "grad"), kind="transform", subject="transform.custom_jvp",
        gen=floats(-5, 5, specials=None), shapes=samples((7,), (3, 5)), tol=_DERIV,
        numpy=F(lambda x: 1 / (1 + np.exp(-x))))
program("transform.custom_vjp", lambda x: _clipped_identity()(x), ("float32", "float64"),
        primitives=("custom_vjp_call",), requires=("custom_vjp",), kind="transform",
        shapes=SHAPES, tol=BITWISE, numpy=lambda x: x)
program("transform.grad_of_custom_vjp",
        lambda x: plax.grad(lambda v: pnp.sum(_clipped_identity()(v) * 3))(x),
        ("float32", "float64"), requires=("custom_vjp", "grad"), kind="transform",
        subject="transform.custom_vjp", shapes=samples((7,), (3, 5)), tol=BITWISE,
        numpy=lambda x: np.full_like(x, 0.5))

# ----------------------------------------------------------------------------
# Autodiff and vmap.

program("transform.grad_elementwise", lambda x: plax.grad(lambda v: pnp.sum(pnp.sin(v) * v))(x),
        _REAL, requires=("grad",), kind="transform", gen=floats(-3, 3, specials=None),
        shapes=SHAPES, tol=_DERIV, numpy=F(lambda x: np.cos(x) * x + np.sin(x)))
program("transform.grad_matmul", lambda x, w: plax.grad(lambda a: pnp.sum(pnp.tanh(a @ w)))(x),
        ("float32", "float64"), requires=("grad",), kind="transform", arity=2,
        gen=floats(-1, 1, specials=None),
        shapes=(each((3, 4), (4, 5)), each((1, 2), (2, 1)), each((0, 3), (3, 2))), tol=_DERIV,
        numpy=lambda x, w: (1 - np.tanh(x @ w) ** 2) @ w.T)
program("transform.value_and_grad",
        lambda x: plax.value_and_grad(lambda v: pnp.sum(v ** 3) / 3)(x), _REAL,
        requires=("value_and_grad",), kind="transform", gen=floats(-2, 2, specials=None),
        shapes=SHAPES, tol=_DERIV, numpy=F(lambda x: (np.sum(x ** 3) / 3, x ** 2)))
program("transform.jvp", lambda x, t: plax.jvp(pnp.exp, (x,), (t,)), _REAL,
        requires=("jvp",), kind="transform", arity=2, gen=floats(-3, 3, specials=None),
        shapes=SHAPES, tol=_DERIV, numpy=F(lambda x, t: (np.exp(x), np.exp(x) * t)))
program("transform.vjp", lambda x, ct: plax.vjp(pnp.tanh, x)[1](ct), _REAL,
        requires=("vjp",), kind="transform", arity=2, gen=floats(-2, 2, specials=None),
        shapes=SHAPES, tol=_DERIV, numpy=F(lambda x, ct: ((1 - np.tanh(x) ** 2) * ct,)))
program("transform.grad_through_control_flow",
        lambda x: plax.grad(lambda v: pnp.sum(lax.fori_loop(0, 3, lambda i, c: c * v, v)))(x),
        ("float32", "float64"), requires=("grad", "lax.fori_loop"), kind="transform",
        gen=floats(-1.5, 1.5, specials=None), shapes=samples((7,), (3, 5)), tol=_DERIV,
        numpy=lambda x: 4 * x ** 3)
program("transform.grad_of_scan",
        lambda x: plax.grad(lambda v: lax.scan(lambda c, e: (c * e + e, None), 1.0, v)[0])(x),
        ("float32", "float64"), requires=("grad", "lax.scan"), kind="transform",
        gen=floats(-1.5, 1.5, specials=None), shapes=samples((4,), (1,)), tol=_DERIV,
        numpy=lambda x: _scan_grad_np(x))


def _scan_grad_np(x):
    # c_{k+1} = c_k * x_k + x_k = (c_k + 1) x_k; d c_n / d x_k = (c_k + 1) prod_{j>k} x_j.
    c = [1.0]
    for v in x.astype(np.float64):
        c.append((c[-1] + 1) * v)
    out = []
    for k in range(len(x)):
        out.append((c[k] + 1) * np.prod(x[k + 1:].astype(np.float64)))
    return np.array(out).astype(x.dtype)


program("transform.vmap", lambda a: plax.vmap(lambda v: v * pnp.sum(v))(a), NUMERIC,
        requires=("vmap",), kind="transform", gen=small_ints(), shapes=samples((3, 4), (1, 1),
                                                                               (0, 3)),
        numpy=lambda a: a * np.sum(a, axis=1, keepdims=True))
program("transform.vmap_matmul", lambda a, b: plax.vmap(pnp.matmul)(a, b),
        ("float32", "int32", "float64"), requires=("vmap",), kind="transform", arity=2,
        gen=small_ints(), shapes=(each((2, 3, 4), (2, 4, 5)), each((1, 1, 1), (1, 1, 1))),
        numpy=np.matmul)
program("transform.vmap_in_axes",
        lambda a, b: plax.vmap(lambda x, y: x * y + 1, in_axes=(1, None))(a, b),
        ("float32", "int32"), requires=("vmap",), kind="transform", arity=2, gen=small_ints(),
        args=(Arg(small_ints()), Arg(small_ints(), shape=lambda s: (s[0],))),
        shapes=samples((3, 4), (2, 1)), numpy=lambda a, b: (a * b[:, None] + 1).T)
program("transform.grad_of_vmap",
        lambda x: plax.grad(lambda v: pnp.sum(plax.vmap(lambda r: pnp.sum(r) * r)(v)))(x),
        ("float32", "float64"), requires=("grad", "vmap"), kind="transform",
        gen=floats(-1, 1, specials=None), shapes=samples((3, 4), (1, 2)), tol=_DERIV,
        numpy=lambda x: np.broadcast_to(2 * np.sum(x, axis=1, keepdims=True), x.shape))
