"""Benchmark workloads, written once against a numpy-like namespace.

Each workload is ``make(lib) -> (eager_fn or None, jit_fn or None)`` where
``lib`` is an adapter exposing ``np`` (the numpy-like module), ``jit`` and
``asarray``. Inputs are created inside ``make`` so they live on the library's
device before timing starts.
"""

from __future__ import annotations

import numpy as np

RNG_SEED = 0


def _data(*shape, dtype=np.float32):
    return np.random.default_rng(RNG_SEED).standard_normal(shape).astype(dtype)


def eager_add_small(lib):
    x, y = lib.asarray(_data(8)), lib.asarray(_data(8))
    return (lambda: x + y), None


def call_xy1_scalar(lib):
    x, y = lib.asarray(np.float32(1.5)), lib.asarray(np.float32(2.0))

    def f(a, b):
        return a * b + 1

    return (lambda: f(x, y)), (lambda g=lib.jit(f): g(x, y))


def call_xy1_vec8(lib):
    x, y = lib.asarray(_data(8)), lib.asarray(_data(8))

    def f(a, b):
        return a * b + 1

    return (lambda: f(x, y)), (lambda g=lib.jit(f): g(x, y))


def norm_10000x10(lib):
    X = lib.asarray(_data(10000, 10))

    def norm(X):
        return (X - X.mean(0)) / X.std(0)

    return (lambda: norm(X)), (lambda g=lib.jit(norm): g(X))


def norm_1000000x10(lib):
    X = lib.asarray(_data(1000000, 10))

    def norm(X):
        return (X - X.mean(0)) / X.std(0)

    return None, (lambda g=lib.jit(norm): g(X))


def gelu_tanh_1e7(lib):
    x = lib.asarray(_data(10_000_000))
    np_ = lib.np

    def gelu(x):
        return 0.5 * x * (1 + np_.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))

    return None, (lambda g=lib.jit(gelu): g(x))


def softmax_4096x1024(lib):
    x = lib.asarray(_data(4096, 1024))
    np_ = lib.np

    def softmax(x):
        e = np_.exp(x - np_.max(x, axis=-1, keepdims=True))
        return e / np_.sum(e, axis=-1, keepdims=True)

    return None, (lambda g=lib.jit(softmax): g(x))


def layernorm_4096x1024(lib):
    x = lib.asarray(_data(4096, 1024))
    np_ = lib.np

    def layernorm(x):
        m = np_.mean(x, axis=-1, keepdims=True)
        v = np_.mean((x - m) ** 2, axis=-1, keepdims=True)
        return (x - m) / np_.sqrt(v + 1e-5)

    return None, (lambda g=lib.jit(layernorm): g(x))


def sum_1e7(lib):
    x = lib.asarray(_data(10_000_000))
    return None, (lambda g=lib.jit(lambda x: lib.np.sum(x)): g(x))


def argmax_1e7(lib):
    x = lib.asarray(_data(10_000_000))
    return None, (lambda g=lib.jit(lambda x: lib.np.argmax(x)): g(x))


WORKLOADS = {
    "eager_add_small": eager_add_small,
    "call_xy1_scalar": call_xy1_scalar,
    "call_xy1_vec8": call_xy1_vec8,
    "norm_10000x10": norm_10000x10,
    "norm_1000000x10": norm_1000000x10,
    "gelu_tanh_1e7": gelu_tanh_1e7,
    "softmax_4096x1024": softmax_4096x1024,
    "layernorm_4096x1024": layernorm_4096x1024,
    "sum_1e7": sum_1e7,
    "argmax_1e7": argmax_1e7,
}
