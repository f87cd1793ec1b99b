"""Regenerate promotion_table.json from JAX's own type promotion.

Run with an environment that has JAX installed:

    python tests/data/generate_promotion_table.py

Each x64 setting is recorded in its own subprocess (JAX_ENABLE_X64 is read at
import). Inputs are named by dtype ("int32") or weak kind ("weak_int",
"weak_float", "weak_bool"); weak kinds are fed to JAX as the Python types
int / float / bool. Each result is recorded as [dtype name, weak flag].
"""

import itertools
import json
import os
import subprocess
import sys

STRONG = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "bfloat16", "float16", "float32", "float64"]
WEAK = ["weak_int", "weak_float", "weak_bool"]
INPUTS = STRONG + WEAK
# A small subset whose ordered triples are also recorded.
TRIPLE_SUBSET = ["bool", "int8", "uint8", "uint32", "int64", "bfloat16", "float16",
                 "float32", "weak_int", "weak_float", "weak_bool"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "promotion_table.json")


def record(x64: bool) -> dict:
    """Runs inside the subprocess: the table for the current JAX_ENABLE_X64."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    assert jax.config.jax_enable_x64 == x64
    as_type = {"weak_int": int, "weak_float": float, "weak_bool": bool}
    as_scalar = {"weak_int": jnp.asarray(1), "weak_float": jnp.asarray(1.0),
                 "weak_bool": jnp.asarray(True)}

    def feed(name):
        return as_type.get(name) or jnp.dtype(name)

    def rt(*names, feed=feed):
        dt, weak = jax.dtypes.result_type(*map(feed, names), return_weak_type_flag=True)
        return [np.dtype(dt).name, bool(weak)]

    def key(*names):
        return ",".join(names)

    # Does a weak-typed jnp scalar promote like the Python type it stands for?
    def feed_scalar(name):
        return as_scalar[name] if name in as_scalar else jnp.dtype(name)

    differences = []
    for a, b in itertools.product(INPUTS, repeat=2):
        if a in WEAK or b in WEAK:
            by_type, by_scalar = rt(a, b), rt(a, b, feed=feed_scalar)
            if by_type != by_scalar:
                differences.append({"args": [a, b], "type": by_type, "scalar": by_scalar})

    return {
        "result_type_1": {a: rt(a) for a in INPUTS},
        "result_type_2": {key(a, b): rt(a, b) for a, b in itertools.product(INPUTS, repeat=2)},
        "result_type_3": {key(*t): rt(*t) for t in itertools.product(TRIPLE_SUBSET, repeat=3)},
        "promote_types": {
            key(a, b): np.dtype(jnp.promote_types(a, b)).name
            for a, b in itertools.product(STRONG, repeat=2)
        },
        "scalar_vs_type_differences": differences,
        "weak_scalars": {n: [np.dtype(s.dtype).name, bool(s.weak_type)]
                         for n, s in as_scalar.items()},
    }


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--child":
        x64 = os.environ["JAX_ENABLE_X64"] == "1"
        json.dump(record(x64), sys.stdout)
        return
    import jax

    table = {"jax_version": jax.__version__, "inputs": INPUTS,
             "weak_inputs": {"weak_int": "int", "weak_float": "float", "weak_bool": "bool"},
             "triple_subset": TRIPLE_SUBSET}
    for x64 in (False, True):
        env = dict(os.environ, JAX_ENABLE_X64="1" if x64 else "0", JAX_PLATFORMS="cpu")
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"],
                             env=env, check=True, capture_output=True, text=True).stdout
        table["x64" if x64 else "x32"] = json.loads(out)
    with open(OUT, "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")
    n = sum(len(table[m][k]) for m in ("x32", "x64")
            for k in ("result_type_1", "result_type_2", "result_type_3", "promote_types"))
    print(f"wrote {n} entries to {OUT} (jax {jax.__version__})")


if __name__ == "__main__":
    main()
