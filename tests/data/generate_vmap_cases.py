"""Expected values for nested vmap / jit / grad compositions, generated once with JAX.

Run with an environment that has JAX installed (x64 disabled, the default):

    python tests/data/generate_vmap_cases.py

Writes ``vmap_cases.json`` next to this file. Each case is a function of a
namespace ``m`` (``m.np``, ``m.lax``, ``m.jit``, ``m.vmap``, ``m.grad``), so the
same definition builds the JAX program here and the plax program in
tests/test_vmap.py, which imports this file for ``CASES`` and ``INPUTS``.
Inputs are drawn from a seeded generator and stored with the results.
"""

from __future__ import annotations

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vmap_cases.json")


def _mlp(m, w, x):
    return m.np.tanh(m.np.dot(x, w["w1"]) + w["b1"]) @ w["w2"]


def _loss(m, w, x, y):
    return m.np.sum((_mlp(m, w, x) - y) ** 2)


def vmap_of_jit(m):
    f = m.jit(lambda x, w: m.np.tanh(m.np.dot(x, w)) + m.np.sum(x))
    return m.vmap(f, in_axes=(0, None))


def jit_of_vmap(m):
    def f(x, w):
        return m.np.tanh(m.np.dot(x, w)) + m.np.sum(x)

    return m.jit(m.vmap(f, in_axes=(1, None), out_axes=1))


def nested_vmap(m):
    def f(a, b):
        return a * b + m.np.sin(a - b)

    return m.vmap(m.vmap(f, in_axes=(0, None)), in_axes=(None, 0))


def nested_vmap_dot(m):
    inner = m.vmap(m.np.dot, in_axes=(None, 1))
    return m.vmap(inner, in_axes=(0, None), out_axes=1)


def vmap_jit_vmap(m):
    inner = m.jit(m.vmap(lambda x, y: m.np.cumsum(x * y) - m.np.max(y), in_axes=(0, 0)))
    return m.vmap(inner, in_axes=(1, None))


def vmap_of_jit_conv(m):
    def conv(x, k):
        return m.lax.conv_general_dilated(x, k, (1,), "SAME")

    return m.vmap(m.jit(conv), in_axes=(0, 0))


def vmap_of_jit_dynamic_slice(m):
    f = m.jit(lambda x, i: m.lax.dynamic_slice(x, (i, 0), (2, 3)) * 2.0)
    return m.vmap(f, in_axes=(None, 0))


def vmap_pytree_in_axes(m):
    def f(params, x):
        return params["scale"] * x + params["shift"], m.np.sum(params["shift"])

    return m.vmap(f, in_axes=({"scale": 0, "shift": None}, 1), out_axes=(0, None))


def vmap_of_grad(m):
    g = m.grad(lambda w, x, y: _loss(m, w, x, y))
    return m.vmap(g, in_axes=(None, 0, 0))


def grad_of_jit_of_vmap(m):
    batched = m.jit(m.vmap(lambda w, x: _mlp(m, w, x), in_axes=(None, 0)))
    return m.grad(lambda w, xs: m.np.sum(m.np.sin(batched(w, xs))))


def vmap_of_grad_of_jit(m):
    g = m.grad(m.jit(lambda x: m.np.sum(m.np.tanh(x) ** 3)))
    return m.vmap(g, in_axes=1, out_axes=1)


def _params(rng):
    return {
        "w1": rng.normal(size=(3, 4)).astype(np.float32),
        "b1": rng.normal(size=(4,)).astype(np.float32),
        "w2": rng.normal(size=(4, 2)).astype(np.float32),
    }


def _inputs():
    rng = np.random.default_rng(5)

    def normal(*shape):
        return rng.normal(size=shape).astype(np.float32)

    return {
        "vmap_of_jit": (normal(4, 3), normal(3, 2)),
        "jit_of_vmap": (normal(3, 4), normal(3, 2)),
        "nested_vmap": (normal(3), normal(4)),
        "nested_vmap_dot": (normal(2, 3), normal(3, 4)),
        "vmap_jit_vmap": (normal(2, 3, 5), normal(2, 5)),
        "vmap_of_jit_conv": (normal(3, 2, 2, 6), normal(3, 4, 2, 3)),
        "vmap_of_jit_dynamic_slice": (normal(5, 3), np.array([-1, 0, 2, 7], np.int32)),
        "vmap_pytree_in_axes": ({"scale": normal(3), "shift": normal(4)}, normal(4, 3)),
        "vmap_of_grad": (_params(rng), normal(5, 3), normal(5, 2)),
        "grad_of_jit_of_vmap": (_params(rng), normal(6, 3)),
        "vmap_of_grad_of_jit": (normal(3, 4),),
    }


CASES = {
    name: globals()[name]
    for name in (
        "vmap_of_jit",
        "jit_of_vmap",
        "nested_vmap",
        "nested_vmap_dot",
        "vmap_jit_vmap",
        "vmap_of_jit_conv",
        "vmap_of_jit_dynamic_slice",
        "vmap_pytree_in_axes",
        "vmap_of_grad",
        "grad_of_jit_of_vmap",
        "vmap_of_grad_of_jit",
    )
}
# Cases that need plax.autodiff.grad.
NEEDS_GRAD = {"vmap_of_grad", "grad_of_jit_of_vmap", "vmap_of_grad_of_jit"}


def encode(tree):
    """Arrays as {"dtype", "shape", "data"}; dicts, lists and tuples kept (tuples as lists)."""
    if isinstance(tree, dict):
        return {k: encode(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [encode(v) for v in tree]
    arr = np.asarray(tree)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape), "data": arr.ravel().tolist()}


def decode(tree, tuples: bool = True):
    if isinstance(tree, dict) and set(tree) == {"dtype", "shape", "data"}:
        return np.asarray(tree["data"], dtype=tree["dtype"]).reshape(tree["shape"])
    if isinstance(tree, dict):
        return {k: decode(v, tuples) for k, v in tree.items()}
    items = [decode(v, tuples) for v in tree]
    return tuple(items) if tuples else items


def main():
    from types import SimpleNamespace

    import jax
    import jax.numpy as jnp

    m = SimpleNamespace(np=jnp, lax=jax.lax, jit=jax.jit, vmap=jax.vmap, grad=jax.grad)
    inputs = _inputs()
    cases = {}
    for name, build in CASES.items():
        args = inputs[name]
        out = build(m)(*args)
        out = jax.tree_util.tree_map(np.asarray, out)
        cases[name] = {"inputs": encode(args), "output": encode(out)}
    with open(OUT, "w") as f:
        json.dump({"jax_version": jax.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
