"""Regenerate the expected values of the control-flow transformation tests from JAX.

Run with an environment that has JAX installed (x64 disabled, the default):

    python tests/data/generate_control_flow.py

Writes ``control_flow_transforms.json`` next to this file: for each case of
``control_flow_cases.py`` its inputs and JAX's outputs (flattened pytree leaves),
as {"dtype", "shape", "data" (flat list)}.
"""

import json
import os
import sys
import types

import jax
import jax.numpy as jnp
from jax import lax

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for testdata (plax-free)
from testdata import encode, load_data_module


def main():
    L = types.SimpleNamespace(
        lax=lax, np=jnp, jit=jax.jit, grad=jax.grad, vmap=jax.vmap, jvp=jax.jvp
    )
    out = {}
    for name, (fun, inputs) in load_data_module("control_flow_cases").CASES.items():
        result = fun(L, *inputs)
        leaves = jax.tree_util.tree_leaves(result)
        out[name] = {
            "inputs": [encode(x) for x in inputs],
            "outputs": [encode(x) for x in leaves],
        }
    path = os.path.join(HERE, "control_flow_transforms.json")
    with open(path, "w") as f:
        json.dump({"jax_version": jax.__version__, "cases": out}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
