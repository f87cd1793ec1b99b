"""Regenerate the expected values of the control-flow transformation tests from JAX.

Run with an environment that has JAX installed (x64 disabled, the default):

    python tests/data/generate_control_flow.py

Writes ``control_flow_transforms.json`` next to this file: for each case of
``control_flow_cases.py`` its inputs and JAX's outputs (flattened pytree leaves),
as {"dtype", "shape", "data" (flat list)}.
"""

import importlib.util
import json
import os
import types

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_cases():
    spec = importlib.util.spec_from_file_location(
        "control_flow_cases", os.path.join(HERE, "control_flow_cases.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def _array(x):
    x = np.asarray(x)
    return {"dtype": x.dtype.name, "shape": list(x.shape), "data": x.ravel().tolist()}


def main():
    L = types.SimpleNamespace(
        lax=lax, np=jnp, jit=jax.jit, grad=jax.grad, vmap=jax.vmap, jvp=jax.jvp
    )
    out = {}
    for name, (fun, inputs) in _load_cases().items():
        result = fun(L, *inputs)
        leaves = jax.tree_util.tree_leaves(result)
        out[name] = {
            "inputs": [_array(x) for x in inputs],
            "outputs": [_array(x) for x in leaves],
        }
    path = os.path.join(HERE, "control_flow_transforms.json")
    with open(path, "w") as f:
        json.dump({"jax_version": jax.__version__, "cases": out}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
