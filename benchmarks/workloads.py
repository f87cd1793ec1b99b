"""Benchmark workloads, written once against a numpy-like adapter.

Each workload is ``make(lib) -> (eager_fn or None, jit_fn or None)``. ``lib`` is an
adapter exposing ``np`` (the numpy-like module), ``jit``, ``asarray``, ``lax`` and
``grad``; for numpy ``jit`` is the identity, ``lax`` is `NumpyLax` (Python loops, no
conv) and ``grad`` is None. A workload the library cannot express returns
``(None, None)``. Inputs are created inside ``make`` so they live on the library's
device before timing starts.

``TARGETS[name] = (peer, ratio)`` is the issue's target: this workload's time on plax's
cpu_llvm divided by ``peer``'s time ("jax": JAX's jit, "numpy": numpy) should be at most
``ratio``. First calls have their own targets (`FIRST_CALL_TARGETS`).
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise

import numpy as np

RNG_SEED = 0
WORKLOADS: dict = {}
TARGETS: dict[str, tuple[str, float]] = {}
# plax's first call / JAX's first call, with an empty and with a warm disk cache.
FIRST_CALL_TARGETS = {"cold": 0.5, "warm": 0.1}
IMPORT_TARGET = 0.3  # wall time of `python -c "import plax"` / `... "import jax"`


def workload(target: tuple[str, float] | None = None, name: str | None = None):
    """Register ``make`` under its name (or ``name``), with the issue's target if any."""

    def register(make):
        key = name or make.__name__
        WORKLOADS[key] = make
        if target is not None:
            TARGETS[key] = target
        return make

    return register


def _data(*shape, seed=RNG_SEED, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


class NumpyLax:
    """The loops numpy users write by hand, so the loop workloads have a numpy baseline."""

    @staticmethod
    def scan(f, init, xs):
        carry, ys = init, []
        for x in xs:
            carry, y = f(carry, x)
            ys.append(y)
        return carry, (None if ys[0] is None else np.stack(ys))

    @staticmethod
    def while_loop(cond_fun, body_fun, init_val):
        val = init_val
        while cond_fun(val):
            val = body_fun(val)
        return val


# -- dispatch overhead -----------------------------------------------------------------------
@workload()
def eager_add_small(lib):
    x, y = lib.asarray(_data(8)), lib.asarray(_data(8, seed=1))
    return (lambda: x + y), None


def _xy1(a, b):
    return a * b + 1


@workload(target=("jax", 1.0))
def call_xy1_scalar(lib):
    x, y = lib.asarray(np.float32(1.5)), lib.asarray(np.float32(2.0))
    return partial(_xy1, x, y), partial(lib.jit(_xy1), x, y)


@workload(target=("jax", 1.0))
def call_xy1_vec8(lib):
    x, y = lib.asarray(_data(8)), lib.asarray(_data(8, seed=1))
    return partial(_xy1, x, y), partial(lib.jit(_xy1), x, y)


# -- fused elementwise and reductions (issue 4) ----------------------------------------------
def _norm(X):
    return (X - X.mean(0)) / X.std(0)


@workload(target=("jax", 1.0))
def norm_10000x10(lib):
    X = lib.asarray(_data(10000, 10))
    return partial(_norm, X), partial(lib.jit(_norm), X)


@workload(target=("jax", 1.0))
def norm_1000000x10(lib):
    X = lib.asarray(_data(1000000, 10))
    return None, partial(lib.jit(_norm), X)


@workload(target=("jax", 0.8))
def gelu_tanh_1e7(lib):
    x = lib.asarray(_data(10_000_000))
    np_ = lib.np

    def gelu(x):
        return 0.5 * x * (1 + np_.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))

    return None, partial(lib.jit(gelu), x)


@workload(target=("jax", 1.0))
def softmax_4096x1024(lib):
    x = lib.asarray(_data(4096, 1024))
    np_ = lib.np

    def softmax(x):
        e = np_.exp(x - np_.max(x, axis=-1, keepdims=True))
        return e / np_.sum(e, axis=-1, keepdims=True)

    return None, partial(lib.jit(softmax), x)


@workload(target=("jax", 1.0))
def layernorm_4096x1024(lib):
    x = lib.asarray(_data(4096, 1024))
    np_ = lib.np

    def layernorm(x):
        m = np_.mean(x, axis=-1, keepdims=True)
        v = np_.mean((x - m) ** 2, axis=-1, keepdims=True)
        return (x - m) / np_.sqrt(v + 1e-5)

    return None, partial(lib.jit(layernorm), x)


@workload(target=("jax", 1.0))
def sum_1e7(lib):
    x = lib.asarray(_data(10_000_000))
    return None, partial(lib.jit(lib.np.sum), x)


@workload(target=("jax", 0.2))
def argmax_1e7(lib):
    x = lib.asarray(_data(10_000_000))
    return None, partial(lib.jit(lib.np.argmax), x)


# -- library calls: matmul and conv (issue 4) ------------------------------------------------
def _matmul(n):
    def make(lib):
        a, b = lib.asarray(_data(n, n)), lib.asarray(_data(n, n, seed=1))
        matmul = lib.np.matmul
        return partial(matmul, a, b), partial(lib.jit(matmul), a, b)

    return make


# The target is numpy's BLAS: it is what plax calls, so only the overhead around it counts.
workload(target=("numpy", 1.1), name="matmul_256")(_matmul(256))
workload(target=("numpy", 1.1), name="matmul_1024")(_matmul(1024))


@workload(target=("jax", 1.2))
def conv2d_nchw(lib):
    """ResNet's second stage: (8,64,56,56) * (64,64,3,3), stride 1, SAME padding."""
    lax = lib.lax
    if not hasattr(lax, "conv_general_dilated"):
        return None, None
    x = lib.asarray(_data(8, 64, 56, 56))
    w = lib.asarray(_data(64, 64, 3, 3, seed=1) * np.float32(1 / 24))

    def conv(x, w):
        return lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )

    return partial(conv, x, w), partial(lib.jit(conv), x, w)


# -- MLP 784-512-512-10 at batch 128 (issues 4 and 5) ----------------------------------------
MLP_SIZES = (784, 512, 512, 10)
MLP_BATCH = 128


def _mlp_params(lib):
    params = []
    for i, (fan_in, fan_out) in enumerate(pairwise(MLP_SIZES)):
        w = _data(fan_in, fan_out, seed=10 + i) * np.float32(fan_in**-0.5)
        params.append((lib.asarray(w), lib.asarray(np.zeros(fan_out, np.float32))))
    return tuple(params)


def _mlp_forward(np_, params, x):
    for w, b in params[:-1]:
        x = np_.maximum(x @ w + b, 0.0)
    w, b = params[-1]
    return x @ w + b


@workload(target=("jax", 1.2))
def mlp_forward(lib):
    params = _mlp_params(lib)
    x = lib.asarray(_data(MLP_BATCH, MLP_SIZES[0]))

    def forward(params, x):
        return _mlp_forward(lib.np, params, x)

    return partial(forward, params, x), partial(lib.jit(forward), params, x)


@workload(target=("jax", 1.2))
def mlp_train_step(lib):
    """Forward, grad of the mean softmax cross-entropy, SGD update; returns new parameters."""
    if lib.grad is None:
        return None, None
    np_ = lib.np
    params = _mlp_params(lib)
    x = lib.asarray(_data(MLP_BATCH, MLP_SIZES[0]))
    labels = np.random.default_rng(RNG_SEED).integers(0, MLP_SIZES[-1], MLP_BATCH)
    onehot = lib.asarray(np.eye(MLP_SIZES[-1], dtype=np.float32)[labels])

    def loss(params, x, onehot):
        logits = _mlp_forward(np_, params, x)
        top = np_.max(logits, axis=-1, keepdims=True)
        logz = np_.log(np_.sum(np_.exp(logits - top), axis=-1, keepdims=True)) + top
        return -np_.mean(np_.sum((logits - logz) * onehot, axis=-1))

    def step(params, x, onehot):
        grads = lib.grad(loss)(params, x, onehot)
        return tuple((w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads))

    return None, partial(lib.jit(step), params, x, onehot)


# -- structured control flow (issue 5) -------------------------------------------------------
RNN_STEPS, RNN_BATCH, RNN_HIDDEN = 1000, 32, 128


@workload(target=("jax", 1.5))
def rnn_scan_1000(lib):
    """h = tanh(h @ W + x_t @ U + b): 1000 steps, batch 32, hidden and input size 128."""
    np_, lax = lib.np, lib.lax
    xs = lib.asarray(_data(RNN_STEPS, RNN_BATCH, RNN_HIDDEN))
    scale = np.float32(RNN_HIDDEN**-0.5)
    w = lib.asarray(_data(RNN_HIDDEN, RNN_HIDDEN, seed=1) * scale)
    u = lib.asarray(_data(RNN_HIDDEN, RNN_HIDDEN, seed=2) * scale)
    b = lib.asarray(np.zeros(RNN_HIDDEN, np.float32))
    h0 = lib.asarray(np.zeros((RNN_BATCH, RNN_HIDDEN), np.float32))

    def rnn(h0, xs, w, u, b):
        def step(h, x_t):
            return np_.tanh(h @ w + x_t @ u + b), None

        return lax.scan(step, h0, xs)[0]

    return None, partial(lib.jit(rnn), h0, xs, w, u, b)


@workload(target=("jax", 1.5))
def newton_while_1e5(lib):
    """sqrt(a) by 20 Newton iterations in a while_loop whose carry holds the counter."""
    lax = lib.lax
    a = lib.asarray(np.abs(_data(100_000)) + np.float32(0.5))

    def newton_sqrt(a):
        def body(carry):
            i, x = carry
            return i + 1, 0.5 * (x + a / x)

        return lax.while_loop(lambda carry: carry[0] < 20, body, (0, a))[1]

    return None, partial(lib.jit(newton_sqrt), a)
