"""Running a case's function on a backend, eagerly or under jit, and on the reference.

Inputs are generated on the host. A sample's layout decides how each operand reaches
the operation: directly, through a transpose, or through a strided slice inside the
program (so the backend sees a non-contiguous view, and under jit may fold the layout
change into its index arithmetic). The numpy oracle gets the operands as the operation
sees them ("logical" inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

import plax
from plax import dispatch, lax
from plax.array import Array
from plax.interpreters.reference import eval_closed_jaxpr
from plax.jaxpr import ClosedJaxpr
from plax.tree_util import tree_leaves

from plax_conformance.generators import default_gen
from plax_conformance.registry import Case
from plax_conformance.spec import Sample

__all__ = ["Inputs", "case_function", "make_inputs", "run_function", "run_jaxpr",
           "specials_sample"]

# The edge-value sample combines every operand's edge values; beyond this many elements
# it takes an evenly spaced subset of the combinations.
MAX_SPECIAL_COMBINATIONS = 20_000


@dataclass
class Inputs:
    base: list  # what the program receives (host arrays)
    logical: list  # what the operation sees after the layout change
    layouts: tuple  # per operand: "contiguous" | "transposed" | "strided"


def specials_sample(case: Case) -> Sample | None:
    """The edge-value sample of an elementwise row (None when the row has none)."""
    if not case.row.specials:
        return None
    return Sample(((0,),), "specials")


def _operand_layout(sample: Sample, arg, shape: tuple) -> str:
    if not arg.layout or sample.layout not in ("transposed", "strided"):
        return "contiguous"
    if sample.layout == "transposed" and len(shape) < 2:
        return "contiguous"
    if sample.layout == "strided" and len(shape) < 1:
        return "contiguous"
    return sample.layout


def _strided_bounds(shape: tuple):
    starts = tuple(1 if d else 0 for d in shape)
    limits = tuple(1 + 2 * (d - 1) + 1 if d else 0 for d in shape)
    base = tuple(2 * d + 1 for d in shape)
    return base, starts, limits


def make_inputs(case: Case, sample: Sample) -> Inputs:
    """Deterministic host inputs of ``case`` for ``sample``."""
    rng = np.random.default_rng(case.seed(sample))
    if sample.layout == "specials":
        return _special_inputs(case, rng)
    base, logical, layouts = [], [], []
    for i, arg in enumerate(case.row.args):
        dtype = arg.dtype_for(case.dtype)
        gen = arg.gen or default_gen(dtype)
        shape = arg.shape_for(sample.shape_of(i))
        layout = _operand_layout(sample, arg, shape)
        if layout == "transposed":
            data = gen(rng, shape[::-1], dtype)
            base.append(np.asfortranarray(data))  # a non-C-contiguous host array too
            logical.append(np.transpose(data))
        elif layout == "strided":
            big, starts, limits = _strided_bounds(shape)
            data = gen(rng, big, dtype)
            base.append(data)
            logical.append(data[tuple(slice(s, e, 2) for s, e in zip(starts, limits))])
        else:
            data = gen(rng, shape, dtype)
            base.append(data)
            logical.append(data)
        layouts.append(layout)
    return Inputs(base, logical, tuple(layouts))


def _special_inputs(case: Case, rng) -> Inputs:
    args = case.row.args
    pools = []
    for arg in args:
        dtype = arg.dtype_for(case.dtype)
        gen = arg.gen or default_gen(dtype)
        pools.append(gen.specials(dtype) if arg.shape is None else None)
    combined = [i for i, p in enumerate(pools) if p is not None and len(p)]
    grids = _combinations([pools[i] for i in combined])
    n = len(grids[0]) if grids else 1
    values = dict(zip(combined, grids))
    out = []
    for i, arg in enumerate(args):
        dtype = arg.dtype_for(case.dtype)
        if i in values:
            out.append(values[i])
        else:
            gen = arg.gen or default_gen(dtype)
            out.append(gen(rng, arg.shape_for((n,)), dtype))
    return Inputs(out, out, ("contiguous",) * len(args))


def _combinations(pools: list) -> list:
    if not pools:
        return []
    sizes = [len(p) for p in pools]
    total = int(np.prod(sizes))
    index = np.arange(total)
    if total > MAX_SPECIAL_COMBINATIONS:
        index = np.linspace(0, total - 1, MAX_SPECIAL_COMBINATIONS).astype(np.int64)
    coords = np.unravel_index(index, sizes)
    return [np.asarray(pool)[c] for pool, c in zip(pools, coords)]


def case_function(case: Case, layouts: tuple) -> Callable:
    """``f(*base_inputs)``: the layout changes, then the row's function with its params."""
    fn = case.row.function()
    params = case.call_params

    def apply_layout(x, layout):
        if layout == "transposed":
            return lax.transpose(x, tuple(reversed(range(x.ndim))))
        if layout == "strided":
            _, starts, limits = _strided_bounds(tuple(d // 2 for d in x.shape))
            return lax.slice(x, starts, limits, (2,) * x.ndim)
        return x

    if all(layout == "contiguous" for layout in layouts):

        def f(*args):
            return fn(*args, **params)

    else:

        def f(*args):
            return fn(*(apply_layout(x, lay) for x, lay in zip(args, layouts)), **params)

    f.__name__ = case.row.name.replace(".", "_").replace(":", "_")
    return f


def flatten(out) -> list:
    return list(tree_leaves(out))


def run_function(f: Callable, inputs: list, backend_name: str, device, mode: str,
                 jit_cache: dict, key) -> list:
    """Run ``f`` on the backend: op by op (eager) or as one program (jit). Returns the
    flat outputs as (numpy array, Array or None) pairs."""
    if mode == "jit":
        jitted = jit_cache.get(key)
        if jitted is None:
            jitted = plax.jit(f, backend=backend_name)
            jit_cache[key] = jitted
        out = jitted(*inputs)
    else:
        out = f(*[plax.device_put(x, device) for x in inputs])
    leaves = flatten(out)
    return [(np.asarray(leaf), leaf if isinstance(leaf, Array) else None) for leaf in leaves]


def reference_jaxpr(f: Callable, inputs: list, ref_cache: dict, key) -> ClosedJaxpr:
    """The jaxpr of ``f`` for these inputs, traced (and simplified) once per signature."""
    jitted = ref_cache.get(key)
    if jitted is None:
        jitted = plax.jit(f, backend="reference")
        ref_cache[key] = jitted
    return jitted.lower(*inputs).jaxpr


def evaluate_reference(closed: ClosedJaxpr, inputs: list) -> list[np.ndarray]:
    return [np.asarray(o) for o in eval_closed_jaxpr(closed, inputs)]


# ----------------------------------------------------------------------------
# Running a jaxpr directly (the shrinker's programs).


def _put(value, aval, device) -> Array:
    host = np.asarray(value, dtype=aval.dtype)
    return Array(device.backend.buffer_from_numpy(host, device), aval, device)


def run_jaxpr(closed: ClosedJaxpr, inputs: list, device, mode: str) -> list[np.ndarray]:
    """Run a jaxpr on ``device``: as one compiled program (jit) or equation by equation
    through eager dispatch."""
    jaxpr = closed.jaxpr
    if mode == "jit":
        executable = dispatch.compile_program(closed, device)
        arrays = [_put(x, v.aval, device) for x, v in zip(inputs, jaxpr.invars)]
        return [np.asarray(o) for o in dispatch.execute(executable, arrays, device)]
    env = {}
    for var, value in zip(jaxpr.constvars, closed.consts):
        env[var] = _put(value, var.aval, device)
    for var, value in zip(jaxpr.invars, inputs):
        env[var] = _put(value, var.aval, device)

    def read(atom):
        if atom in env:
            return env[atom]
        return _put(atom.val, atom.aval, device)  # a Literal

    for eqn in jaxpr.eqns:
        outs = eqn.primitive.bind(*[read(a) for a in eqn.invars], **eqn.params)
        outs = outs if eqn.primitive.multiple_results else [outs]
        for var, value in zip(eqn.outvars, outs):
            env[var] = value
    return [np.asarray(read(a)) for a in jaxpr.outvars]

