"""Transformations of control flow, written once for JAX and for plax.

Each case is a function of a namespace ``L`` (``L.lax``, ``L.np``, ``L.jit``,
``L.grad``, ``L.vmap``, ``L.jvp``) and of the case's inputs.
``generate_control_flow.py`` runs them with JAX and stores the results in
``control_flow_transforms.json``; ``tests/test_control_flow_transforms.py`` runs
them with plax and compares.
"""

import numpy as np


def _f32(x):
    return np.asarray(x, np.float32)


# ----------------------------------------------------------------------------
# Functions.


def rnn_loss(L, w, h0, xs):
    def step(h, x):
        h = L.np.tanh(L.np.dot(w, h) + x)
        return h, L.np.sum(h * h)

    h, ys = L.lax.scan(step, h0, xs)
    return L.np.sum(h) + L.np.sum(ys)


def reverse_scan_loss(L, c0, xs):
    def step(c, x):
        return c * L.np.sin(x) + x, c * c

    c, ys = L.lax.scan(step, c0, xs, reverse=True)
    return c + L.np.sum(ys * xs)


def cond_loss(L, x, y):
    return L.lax.cond(
        L.np.sum(x) > y,
        lambda x, y: L.np.sum(L.np.sin(x) * y),
        lambda x, y: L.np.sum(L.np.cos(x)) / y,
        x,
        y,
    )


def switch_loss(L, i, x):
    branches = [
        lambda x: L.np.sum(x * x),
        lambda x: L.np.sum(L.np.exp(x)),
        lambda x: L.np.sum(L.np.sin(x) * x),
    ]
    return L.lax.switch(i, branches, x)


def fori_loss(L, x):
    def body(i, c):
        return L.np.sin(c) * x + L.lax.convert_element_type(i, np.float32)

    return L.lax.fori_loop(0, 5, body, x)


def while_count(L, x):
    def body(c):
        v, n = c
        return v * 1.5 + 1.0, n + 1

    return L.lax.while_loop(lambda c: c[0] < 50.0, body, (x, 0))


def newton_sqrt(L, a):
    def body(c):
        x, k = c
        return 0.5 * (x + a / x), k + 1

    return L.lax.while_loop(lambda c: c[1] < 20, body, (a, 0))[0]


def safe_cond(L, x):
    return L.lax.cond(x > 0, lambda x: L.np.sqrt(x), lambda x: x * 0.0, x)


def cond_pick(L, x):
    return L.lax.cond(x > 0.5, lambda x: L.np.sin(x) * 2.0, lambda x: x * x, x)


def scan_cumprod(L, xs):
    return L.lax.scan(lambda c, x: (c * x, c * x), L.np.float32(1.0), xs)[1]


# ----------------------------------------------------------------------------
# Cases: name -> (function of L and the inputs, inputs).

W = _f32([[0.5, -0.3, 0.1], [0.2, 0.4, -0.6], [-0.1, 0.3, 0.2]])
H0 = _f32([0.1, -0.2, 0.3])
XS = _f32(np.linspace(-1.0, 1.0, 12).reshape(4, 3))

CASES = {
    "jit_grad_scan": (
        lambda L, w, h0, xs: L.jit(L.grad(lambda *a: rnn_loss(L, *a), argnums=(0, 1, 2)))(
            w, h0, xs
        ),
        (W, H0, XS),
    ),
    "grad_jit_scan": (
        lambda L, w, h0, xs: L.grad(L.jit(lambda *a: rnn_loss(L, *a)), argnums=(0, 1, 2))(
            w, h0, xs
        ),
        (W, H0, XS),
    ),
    "grad_reverse_scan": (
        lambda L, c0, xs: L.grad(lambda *a: reverse_scan_loss(L, *a), argnums=(0, 1))(c0, xs),
        (_f32(0.7), _f32([0.5, -1.0, 2.0, 0.25])),
    ),
    "grad_cond_true": (
        lambda L, x, y: L.grad(lambda *a: cond_loss(L, *a), argnums=(0, 1))(x, y),
        (_f32([0.5, 1.0, 1.5]), _f32(1.0)),
    ),
    "grad_cond_false": (
        lambda L, x, y: L.grad(lambda *a: cond_loss(L, *a), argnums=(0, 1))(x, y),
        (_f32([0.5, -1.0, 0.2]), _f32(2.0)),
    ),
    "jit_grad_switch": (
        lambda L, x: [L.jit(L.grad(lambda x, i=i: switch_loss(L, i, x)))(x) for i in (-1, 1, 2, 5)],
        (_f32([0.3, -0.4]),),
    ),
    "grad_fori_static": (
        lambda L, x: (L.grad(lambda x: fori_loss(L, x))(x), fori_loss(L, x)),
        (_f32(0.8),),
    ),
    "jit_grad_fori_static": (
        lambda L, x: L.jit(L.grad(lambda x: fori_loss(L, x)))(x),
        (_f32(-0.3),),
    ),
    "vmap_while_batched_pred": (
        lambda L, xs: L.vmap(lambda x: while_count(L, x))(xs),
        (_f32([0.1, 3.0, 10.0, 49.0, 60.0]),),
    ),
    "jit_vmap_while_batched_pred": (
        lambda L, xs: L.jit(L.vmap(lambda x: while_count(L, x)))(xs),
        (_f32([-1.0, 20.0, 100.0]),),
    ),
    "jvp_while_newton": (
        lambda L, a: L.jvp(lambda a: newton_sqrt(L, a), (a,), (L.np.ones_like(a),)),
        (_f32([2.0, 9.0, 0.25]),),
    ),
    "vmap_jvp_while": (
        lambda L, a: L.vmap(lambda a: L.jvp(lambda a: newton_sqrt(L, a), (a,), (a,)))(a),
        (_f32([4.0, 16.0]),),
    ),
    "vmap_cond_batched_pred": (
        lambda L, xs: (
            L.vmap(lambda x: cond_pick(L, x))(xs),
            L.vmap(L.grad(lambda x: cond_pick(L, x)))(xs),
        ),
        (_f32([0.1, 0.9, -2.0, 3.0]),),
    ),
    "grad_vmap_safe_cond": (
        lambda L, xs: L.grad(lambda xs: L.np.sum(L.vmap(lambda x: safe_cond(L, x))(xs)))(xs),
        (_f32([-1.0, 4.0, 0.0, 9.0]),),
    ),
    "vmap_grad_scan": (
        lambda L, c0s, xs: L.vmap(L.grad(lambda c0: L.np.sum(scan_cumprod(L, xs * c0))))(c0s),
        (_f32([0.5, 1.0, 2.0]), _f32([1.0, 2.0, 0.5])),
    ),
    "grad_vmap_scan_batched_xs": (
        lambda L, xss: L.grad(lambda xss: L.np.sum(L.vmap(lambda xs: scan_cumprod(L, xs))(xss)))(
            xss
        ),
        (_f32([[1.0, 2.0, 0.5], [0.5, -1.0, 3.0]]),),
    ),
    "grad_map": (
        lambda L, xs: L.grad(lambda xs: L.np.sum(L.lax.map(lambda x: L.np.sin(x) * x, xs)))(xs),
        (_f32([0.1, 0.5, 2.0]),),
    ),
}
