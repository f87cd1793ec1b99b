"""Regenerate the expected values of the autodiff tests from JAX.

Run with an environment that has JAX installed:

    python tests/data/generate_autodiff.py

Writes ``autodiff_expected.json`` next to this file: for each case of
``autodiff_cases.py``, JAX's outputs in float64 (x64 enabled), as flattened
pytree leaves {"dtype", "shape", "data" (flat list)}. The inputs are not
stored: ``autodiff_cases.py`` builds them from a fixed seed.
"""

import json
import os
import sys
import types

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
from jax import lax

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for testdata (plax-free)
from testdata import encode, load_data_module


def main():
    L = types.SimpleNamespace(
        np=jnp,
        lax=lax,
        jit=jax.jit,
        grad=jax.grad,
        value_and_grad=jax.value_and_grad,
        jvp=jax.jvp,
        vjp=jax.vjp,
        linearize=jax.linearize,
        jacfwd=jax.jacfwd,
        jacrev=jax.jacrev,
        hessian=jax.hessian,
        custom_jvp=jax.custom_jvp,
        custom_vjp=jax.custom_vjp,
        checkpoint=jax.checkpoint,
        stop_gradient=jax.lax.stop_gradient,
    )
    out = {"jax_version": jax.__version__, "cases": {}}
    for name, (fn, args) in load_data_module("autodiff_cases").CASES.items():
        result = fn(L, *args)
        leaves, tree = jax.tree_util.tree_flatten(result)
        out["cases"][name] = {"tree": str(tree), "outputs": [encode(x) for x in leaves]}
    path = os.path.join(HERE, "autodiff_expected.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {len(out['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
