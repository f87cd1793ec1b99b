"""Differentiated programs, written once for JAX and for plax.

Each case is ``(function of a namespace L and the inputs, inputs)``. ``L`` has
``np`` (jax.numpy / plax.numpy), ``lax`` and the transformations (``jit``,
``grad``, ``value_and_grad``, ``jvp``, ``vjp``, ``linearize``, ``jacfwd``,
``jacrev``, ``hessian``, ``custom_jvp``, ``custom_vjp``, ``checkpoint``,
``stop_gradient``). ``generate_autodiff.py`` runs them with JAX in float64 and
stores the results in ``autodiff_expected.json``; ``tests/test_autodiff.py``
runs them with plax (x64 enabled) and compares.
"""

import numpy as np

_rng = np.random.RandomState(42)


def _randn(*shape):
    return _rng.standard_normal(shape)


# ----------------------------------------------------------------------------
# Building blocks.


def _smooth(L, x, y):
    return L.np.sum(L.np.sin(x) * y + x**2 * L.np.cos(y))


def _mlp(L, params, x):
    for w, b in params:
        x = L.np.tanh(L.np.dot(x, w) + b)
    return L.np.sum(x * x)


_MLP_PARAMS = [(_randn(3, 4), _randn(4)), (_randn(4, 2), _randn(2))]


def _softmax_xent(L, w, x, labels):
    logits = L.np.dot(x, w)
    logp = logits - L.np.log(L.np.sum(L.np.exp(logits), axis=-1, keepdims=True))
    return -L.np.mean(L.np.sum(logp * labels, axis=-1))


def _convnet(L, w, x):
    y = L.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)))
    y = L.np.maximum(y, 0.0)
    y = L.lax.reduce_window(y, -np.inf, L.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    return L.np.sum(y * y)


# ----------------------------------------------------------------------------
# Cases.


def grad_of_jit(L, x, y):
    return L.grad(L.jit(lambda a, b: _smooth(L, a, b)), argnums=(0, 1))(x, y)


def jit_of_grad(L, x, y):
    return L.jit(L.grad(lambda a, b: _smooth(L, a, b), argnums=(0, 1)))(x, y)


def jit_of_grad_of_jit(L, x, y):
    return L.jit(L.grad(L.jit(lambda a, b: _smooth(L, a, b))))(x, y)


def hessian_mlp_input(L, x):
    params = [(w, b) for w, b in _MLP_PARAMS]
    return L.hessian(lambda v: _mlp(L, params, v))(x)


def hessian_mlp_bias(L, b0, x):
    (w0, _), second = _MLP_PARAMS

    def loss(b):
        return _mlp(L, [(w0, b), second], x)

    return L.hessian(loss)(b0)


def grad_mlp_params(L, x):
    params = [(w, b) for w, b in _MLP_PARAMS]
    return L.grad(lambda p: _mlp(L, p, x))(params)


def value_and_grad_aux(L, w, x, labels):
    def loss(w):
        value = _softmax_xent(L, w, x, labels)
        return value, L.np.max(w)

    (value, aux), g = L.value_and_grad(loss, has_aux=True)(w)
    return value, aux, g


def jacfwd_dict(L, x, y):
    def f(d):
        return L.np.stack([L.np.sum(d["a"] * d["b"]), L.np.prod(L.np.sin(d["a"]))])

    return L.jacfwd(f)({"a": x, "b": y})


def jacrev_matrix(L, x):
    return L.jacrev(lambda v: L.np.tanh(L.np.outer(v, v)))(x)


def jvp_linearize_vjp(L, x, t, ct):
    def f(v):
        return L.np.cumsum(L.np.exp(v) * L.np.sin(v[::-1]))

    out, out_t = L.jvp(f, (x,), (t,))
    _, f_jvp = L.linearize(f, x)
    _, pullback = L.vjp(f, x)
    return out, out_t, f_jvp(t), pullback(ct)[0]


def grad_convnet(L, w, x):
    return L.grad(lambda w, x: _convnet(L, w, x), argnums=(0, 1))(w, x)


def grad_sort_topk_cumulative(L, x):
    def f(v):
        s = L.lax.sort(v)
        top, _ = L.lax.top_k(v, 3)
        return (
            L.np.sum(s * L.np.arange(v.shape[0]))
            + L.np.sum(top**2)
            + L.np.sum(L.lax.cumprod(v))
            + L.np.sum(L.lax.cummax(v) * L.np.cos(v))
        )

    return L.grad(f)(x)


def third_derivative(L, x):
    f = lambda v: L.np.sin(v) * L.np.exp(v) / (1.0 + v * v)
    return L.grad(L.grad(L.grad(f)))(x)


def ties_and_kinks(L, x):
    # max/min ties share the derivative; abs(0) has slope 1; reduce_max ties share it.
    g1 = L.grad(lambda a, b: L.lax.max(a, b), argnums=(0, 1))(x, x)
    g2 = L.grad(L.lax.abs)(0.0 * x)
    g3 = L.grad(lambda v: L.np.max(v))(L.np.array([1.0, 3.0, 3.0, 2.0]))
    return g1, g2, g3


def custom_rules(L, x):
    @L.custom_jvp
    def log1pexp(v):
        return L.np.log(1.0 + L.np.exp(v))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (v,), (t,) = primals, tangents
        return log1pexp(v), t * (1.0 - 1.0 / (1.0 + L.np.exp(v)))

    @L.custom_vjp
    def clip_gradient(v):
        return v

    def clip_fwd(v):
        return v, None

    def clip_bwd(_, g):
        return (L.np.clip(g, -0.5, 0.5),)

    clip_gradient.defvjp(clip_fwd, clip_bwd)

    def loss(v):
        return L.np.sum(log1pexp(v * 40.0)) + L.np.sum(clip_gradient(v) * 3.0)

    return L.grad(loss)(x), L.jit(L.grad(loss))(x), L.grad(L.jit(loss))(x)


def checkpointed(L, x):
    def block(v):
        return L.np.sin(L.np.cos(v) * v)

    def loss(v):
        return L.np.sum(L.checkpoint(block)(L.checkpoint(block)(v)))

    return L.grad(loss)(x), L.jit(L.grad(loss))(x)


def stop_gradient_mix(L, x):
    return L.grad(lambda v: L.np.sum(v * L.stop_gradient(v * v) + L.lax.stop_gradient(v)))(x)


def slicing_and_updates(L, x, u):
    def f(v, w):
        a = L.lax.dynamic_slice(v, (1, 2), (2, 3))
        b = L.lax.dynamic_update_slice(v, w, (2, 1))
        c = L.lax.pad(v, 0.5, ((1, 0, 1), (0, -1, 0)))
        d = L.np.concatenate([v, w * 2.0], axis=0)
        return L.np.sum(a**3) + L.np.sum(b * v) + L.np.sum(c**2) + L.np.sum(L.np.sin(d))

    return L.grad(f, argnums=(0, 1))(x, u)


def grad_of_grad_jit_mix(L, x):
    f = L.jit(lambda v: L.np.sum(L.np.tanh(v) ** 3))
    g = L.jit(L.grad(f))
    return L.grad(lambda v: L.np.sum(g(v) * v))(x)


CASES = {
    "grad_of_jit": (grad_of_jit, (_randn(4), _randn(4))),
    "jit_of_grad": (jit_of_grad, (_randn(4), _randn(4))),
    "jit_of_grad_of_jit": (jit_of_grad_of_jit, (_randn(3), _randn(3))),
    "hessian_mlp_input": (hessian_mlp_input, (_randn(3),)),
    "hessian_mlp_bias": (hessian_mlp_bias, (_randn(4), _randn(5, 3))),
    "grad_mlp_params": (grad_mlp_params, (_randn(5, 3),)),
    "value_and_grad_aux": (
        value_and_grad_aux,
        (_randn(4, 3), _randn(5, 4), np.eye(3)[[0, 2, 1, 1, 0]]),
    ),
    "jacfwd_dict": (jacfwd_dict, (_randn(3), _randn(3))),
    "jacrev_matrix": (jacrev_matrix, (_randn(3),)),
    "jvp_linearize_vjp": (jvp_linearize_vjp, (_randn(5), _randn(5), _randn(5))),
    "grad_convnet": (grad_convnet, (_randn(3, 2, 3, 3), _randn(2, 2, 6, 6))),
    "grad_sort_topk_cumulative": (grad_sort_topk_cumulative, (_randn(6),)),
    "third_derivative": (third_derivative, (0.7,)),
    "ties_and_kinks": (ties_and_kinks, (1.5,)),
    "custom_rules": (custom_rules, (_randn(4),)),
    "checkpointed": (checkpointed, (_randn(4),)),
    "stop_gradient_mix": (stop_gradient_mix, (_randn(3),)),
    "slicing_and_updates": (slicing_and_updates, (_randn(5, 6), _randn(2, 6))),
    "grad_of_grad_jit_mix": (grad_of_grad_jit_mix, (_randn(4),)),
}
