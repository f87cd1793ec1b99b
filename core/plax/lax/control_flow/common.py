"""Shared pieces of the control-flow primitives: staging user functions into
closed jaxprs, hoisting their captured values into operands, type matching and
the error messages that name both sides of a mismatch.

The public wrappers stage branches and loop bodies into closed jaxprs with *no*
consts: what a function captures from its surroundings (arrays, or tracers of
an outer transformation) becomes a leading operand of the equation. That way a
transformation sees every value the body depends on and can differentiate or
batch it like any other operand. (Jaxprs made by partial evaluation may keep
plain constants closed over; every rule evaluates a sub-jaxpr with its consts.)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np

from plax import core, dispatch
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.batching import literal_value  # noqa: F401 (lowering.decompose uses it)
from plax.interpreters.partial_eval import trace_to_jaxpr
from plax.jaxpr import ClosedJaxpr, Jaxpr, Var
from plax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

# ----------------------------------------------------------------------------
# Types and their text.


def type_text(aval: ShapedArray) -> str:
    """``float32[3]`` (JAX's long form in error messages; ``~`` marks weak types)."""
    dims = ",".join(str(d) for d in aval.shape)
    return f"{'~' if aval.weak_type else ''}{aval.dtype.name}[{dims}]"


def types_text(avals: Sequence[ShapedArray]) -> str:
    return "(" + ", ".join(type_text(a) for a in avals) + ")"


def typematch(a: ShapedArray, b: ShapedArray) -> bool:
    """Same shape and dtype; weak types may differ (as in JAX)."""
    return a.shape == b.shape and a.dtype == b.dtype


def mismatch_reason(a: ShapedArray, b: ShapedArray) -> str:
    if a.shape != b.shape and a.dtype != b.dtype:
        return "so the shapes and dtypes do not match"
    if a.shape != b.shape:
        return "so the shapes do not match"
    return "so the dtypes do not match"


def tree_text(treedef: PyTreeDef) -> str:
    return repr(treedef)


def fun_name(fun: Callable) -> str:
    """A callable's name and where it was defined, for error messages."""
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None) or repr(fun)
    try:
        code = fun.__code__
    except AttributeError:
        return name
    return f"{name} at {code.co_filename}:{code.co_firstlineno}"


def first_arg_name(fun: Callable, default: str) -> str:
    """The name of ``fun``'s first parameter (the carry in a loop body)."""
    try:
        params = list(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        return default
    return params[0] if params else default


def check_callable(api: str, **funs) -> None:
    for what, fun in funs.items():
        if not callable(fun):
            raise TypeError(f"lax.{api}: {what} argument should be a callable, got {fun!r}")


# ----------------------------------------------------------------------------
# Staging functions into closed jaxprs.


def flat_avals(flat_vals) -> list[ShapedArray]:
    return [core.get_aval(x) for x in flat_vals]


class Traced:
    """One staged function: its jaxpr (captured values as leading invars), the
    captured values, and the output pytree structure."""

    __slots__ = ("consts", "jaxpr", "out_tree")

    def __init__(self, jaxpr: ClosedJaxpr, consts: list, out_tree: PyTreeDef):
        self.jaxpr = jaxpr
        self.consts = consts
        self.out_tree = out_tree

    @property
    def out_avals(self) -> list[ShapedArray]:
        return self.jaxpr.out_avals


def trace_fun(
    fun: Callable, in_tree: PyTreeDef, in_avals: Sequence[ShapedArray], post: Callable | None = None
) -> Traced:
    """Stage ``fun(*tree_unflatten(in_tree, args))`` with the given input types.

    ``post(out_tree, out_flat) -> out_flat`` may adjust the flat outputs while still
    tracing (loop bodies use it to make carry types exact).
    """
    out_tree_box = []

    def flat_fun(*flat_args):
        args = tree_unflatten(in_tree, flat_args)
        out = fun(*args)
        out_flat, out_tree = tree_flatten(out)
        out_tree_box.append(out_tree)
        if post is not None:
            out_flat = post(out_tree, out_flat)
        return out_flat

    closed = trace_to_jaxpr(flat_fun, in_avals)
    jaxpr, consts = hoist_consts(closed)
    return Traced(jaxpr, consts, out_tree_box[0])


def hoist_consts(closed: ClosedJaxpr) -> tuple[ClosedJaxpr, list]:
    """Turn every const of ``closed`` into a leading input; returns the const values."""
    jaxpr = closed.jaxpr
    if not jaxpr.constvars:
        return closed, []
    new = Jaxpr([], list(jaxpr.constvars) + list(jaxpr.invars), jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(new, []), list(closed.consts)


def merge_consts(traced: Sequence[Traced]) -> tuple[list[ClosedJaxpr], list]:
    """Give several staged functions one shared list of captured values.

    Each jaxpr gets the union (deduplicated by identity) as its leading inputs,
    with fresh unused inputs for the values only the other functions capture.
    """
    consts: list = []
    index_of: dict[int, int] = {}
    for t in traced:
        for c in t.consts:
            if id(c) not in index_of:
                index_of[id(c)] = len(consts)
                consts.append(c)
    const_avals = [core.get_aval(c) for c in consts]
    jaxprs = []
    for t in traced:
        jaxpr = t.jaxpr.jaxpr
        own = len(t.consts)
        leading: list = [None] * len(consts)
        rename = {}
        for c, var in zip(t.consts, jaxpr.invars[:own]):
            slot = index_of[id(c)]
            if leading[slot] is None:
                leading[slot] = var
            else:
                # One value captured twice by the same function: keep the first binder.
                rename[var] = leading[slot]
        leading = [Var(a) if v is None else v for v, a in zip(leading, const_avals)]
        new = Jaxpr([], leading + list(jaxpr.invars[own:]), jaxpr.outvars, jaxpr.eqns)
        if rename:
            new = substitute(new, rename)
        jaxprs.append(ClosedJaxpr(new, []))
    return jaxprs, consts


def merge_closed(closed: Sequence[ClosedJaxpr]) -> tuple[list[ClosedJaxpr], list]:
    """Closed jaxprs (e.g. made by a transformation) without consts, sharing one list of
    leading operands that holds the values of all their consts."""
    traced = []
    for c in closed:
        jaxpr, consts = hoist_consts(c)
        traced.append(Traced(jaxpr, consts, None))
    return merge_consts(traced)


# ----------------------------------------------------------------------------
# Jaxpr surgery: reorder, add or drop inputs and outputs without retracing.


def permute_invars(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    """A jaxpr whose i-th input is input ``order[i]`` of ``closed``."""
    jaxpr = closed.jaxpr
    invars = [jaxpr.invars[i] for i in order]
    return ClosedJaxpr(Jaxpr(jaxpr.constvars, invars, jaxpr.outvars, jaxpr.eqns), closed.consts)


def permute_outvars(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    jaxpr = closed.jaxpr
    outvars = [jaxpr.outvars[i] for i in order]
    return ClosedJaxpr(Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, jaxpr.eqns), closed.consts)


def insert_invars(closed: ClosedJaxpr, at: int, avals: Sequence[ShapedArray]) -> ClosedJaxpr:
    """``closed`` with unused inputs of types ``avals`` inserted before input ``at``."""
    jaxpr = closed.jaxpr
    invars = list(jaxpr.invars[:at]) + [Var(a) for a in avals] + list(jaxpr.invars[at:])
    return ClosedJaxpr(Jaxpr(jaxpr.constvars, invars, jaxpr.outvars, jaxpr.eqns), closed.consts)


def select_outvars(closed: ClosedJaxpr, keep: Sequence[bool]) -> ClosedJaxpr:
    """``closed`` returning only the outputs flagged in ``keep`` (dead code removed)."""
    from plax import passes

    jaxpr = closed.jaxpr
    outvars = [v for v, k in zip(jaxpr.outvars, keep) if k]
    new = passes.dce(Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, jaxpr.eqns))
    return ClosedJaxpr(new, closed.consts)


def drop_unused_inputs(closed: ClosedJaxpr, operands: Sequence, droppable: Sequence[bool]):
    """Remove the inputs flagged ``droppable`` that no equation or output reads, and the
    matching operands. Returns (jaxpr, operands, number of inputs kept among droppable)."""
    jaxpr = closed.jaxpr
    used = {a for e in jaxpr.eqns for a in e.invars if isinstance(a, Var)}
    used.update(a for a in jaxpr.outvars if isinstance(a, Var))
    keep = [not d or v in used for v, d in zip(jaxpr.invars, droppable)]
    if all(keep):
        return closed, list(operands), sum(bool(d) for d in droppable)
    invars = [v for v, k in zip(jaxpr.invars, keep) if k]
    new = ClosedJaxpr(Jaxpr(jaxpr.constvars, invars, jaxpr.outvars, jaxpr.eqns), closed.consts)
    kept = sum(1 for k, d in zip(keep, droppable) if k and d)
    return new, [o for o, k in zip(operands, keep) if k], kept


def split(values: Sequence, sizes: Sequence[int]) -> list[list]:
    """``values`` cut into consecutive pieces of the given sizes (the rest last)."""
    out = []
    start = 0
    for n in sizes:
        out.append(list(values[start : start + n]))
        start += n
    out.append(list(values[start:]))
    return out


def pick(values: Sequence, flags: Sequence[bool], want: bool = True) -> list:
    return [v for v, f in zip(values, flags) if bool(f) == want]


def ranges(*sizes: int) -> list[list[int]]:
    """Consecutive index ranges of the given sizes: ``ranges(2, 1) == [[0, 1], [2]]``."""
    out = []
    start = 0
    for n in sizes:
        out.append(list(range(start, start + n)))
        start += n
    return out


def carry_fixpoint(step: Callable, carry_flags: Sequence[bool]) -> list[bool]:
    """Grow per-carry flags (has a tangent, is unknown, is batched) until the loop body
    maps them to themselves; ``step(flags)`` gives the body's flags for its outputs."""
    flags = list(carry_flags)
    for _ in range(len(flags) + 1):
        out = step(flags)[: len(flags)]
        new = [a or b for a, b in zip(flags, out)]
        if new == flags:
            return flags
        flags = new
    raise AssertionError("carry flags did not reach a fixpoint")


def substitute(jaxpr: Jaxpr, rename: dict) -> Jaxpr:
    def sub(a):
        return rename.get(a, a) if isinstance(a, Var) else a

    eqns = [e.replace(invars=tuple(sub(a) for a in e.invars)) for e in jaxpr.eqns]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, [sub(a) for a in jaxpr.outvars], eqns)


def eval_jaxpr_by_bind(closed: ClosedJaxpr, args) -> list:
    """Evaluate a closed jaxpr by binding its equations, so any active trace sees them."""
    return batching.eval_jaxpr(closed.jaxpr, closed.consts, args)


def check_operand_types(
    name: str, what: str, expected: Sequence[ShapedArray], got: Sequence[ShapedArray]
) -> None:
    """Abstract-eval check of a sub-jaxpr's inputs against the equation's operands."""
    if len(expected) != len(got) or not all(map(typematch, expected, got)):
        raise TypeError(
            f"{name}: {what} takes inputs of types {types_text(expected)} but the operands "
            f"have types {types_text(got)}"
        )


# ----------------------------------------------------------------------------
# Loop carries: input and output types must agree exactly.


def carry_fixed_point(
    api: str, carry_name: str, init_flat: list, init_tree: PyTreeDef, trace: Callable
):
    """Stage a loop body until its carry output types equal its carry input types.

    ``trace(carry_avals, post) -> (Traced, out_carry_tree, out_carry_avals)``.
    Weakly typed initial values (Python scalars) take the type the body gives
    them, as in JAX: ``while_loop(c, lambda c: c + 1.0, 0)`` carries a float32.
    A strongly typed carry that the body returns weakly typed is made strong
    inside the body. Any other difference is the user's error; it is reported
    naming the input and output type of each offending component.
    Returns (traced, init_flat) with the initial values converted as needed.
    """
    from plax.lax.convert import _convert_keep_weak

    avals = flat_avals(init_flat)

    def post_for(carry_avals):
        def post(out_carry):
            fixed = []
            for o, want in zip(out_carry, carry_avals):
                got = core.get_aval(o)
                if typematch(got, want) and got.weak_type and not want.weak_type:
                    o = _convert_keep_weak(o, want.dtype, False)
                fixed.append(o)
            return fixed

        return post

    for _ in range(len(avals) + 2):
        traced, out_tree, out_avals = trace(avals, post_for(avals))
        check_carry_tree(api, carry_name, init_tree, out_tree)
        if out_avals == avals:
            return traced, init_flat
        new_avals = []
        for a, o in zip(avals, out_avals):
            if a == o or not a.weak_type:
                new_avals.append(a)
                continue
            dtype, weak = _promote_weak(a, o)
            new_avals.append(ShapedArray(a.shape, dtype, weak))
        if new_avals == avals:
            break
        init_flat = [
            x if a == n else _convert_keep_weak(x, n.dtype, n.weak_type)
            for x, a, n in zip(init_flat, avals, new_avals)
        ]
        avals = new_avals
    check_carry_types(api, carry_name, init_tree, avals, out_avals)
    raise AssertionError(f"lax.{api}: carry types did not settle: {avals} vs {out_avals}")


def _promote_weak(a: ShapedArray, o: ShapedArray):
    from plax import dtypes

    if a.shape != o.shape:
        return a.dtype, a.weak_type
    return dtypes.result_type(a, o, return_weak_type_flag=True)


def check_carry_tree(api: str, carry_name: str, in_tree: PyTreeDef, out_tree: PyTreeDef):
    if in_tree != out_tree:
        raise TypeError(
            f"lax.{api}: the body function's carry input and carry output must have the same "
            f"pytree structure, but they differ: the input carry {carry_name} is "
            f"{tree_text(in_tree)} but the carry output is {tree_text(out_tree)}. Revise the "
            "function so that the carry output has the same pytree structure as the carry input."
        )


def check_carry_types(
    api: str,
    carry_name: str,
    tree: PyTreeDef,
    in_avals: Sequence[ShapedArray],
    out_avals: Sequence[ShapedArray],
):
    paths = leaf_paths(tree)
    diffs = []
    for path, a, o in zip(paths, in_avals, out_avals):
        if typematch(a, o):
            continue
        where = f"the input carry {carry_name}{path}" if path else f"the input carry {carry_name}"
        diffs.append(
            f"{where} has type {type_text(a)} but the corresponding output carry component "
            f"has type {type_text(o)}, {mismatch_reason(a, o)}"
        )
    if not diffs:
        return
    raise TypeError(
        f"lax.{api}: the body function's carry input and carry output must have equal types, "
        "but they differ:\n  " + ";\n  ".join(diffs) + ".\nRevise the function so that all "
        "output types match the corresponding input types."
    )


def leaf_paths(tree: PyTreeDef) -> list[str]:
    """A key path such as ``[0]['w']`` for each leaf of ``tree`` (empty for a lone leaf)."""
    out: list[str] = []

    def walk(t: PyTreeDef, prefix: str):
        if t.kind is None:
            out.append(prefix)
            return
        if t.kind is dict:
            keys = (
                t.aux[0]
                if isinstance(t.aux, tuple) and len(t.aux) == 2 and isinstance(t.aux[1], type)
                else t.aux
            )
            for k, c in zip(keys, t.children):
                walk(c, f"{prefix}[{k!r}]")
            return
        for i, c in enumerate(t.children):
            walk(c, f"{prefix}[{i}]")

    walk(tree, "")
    return out


# ----------------------------------------------------------------------------
# Eager execution.


def eager_rule(primitive: core.Primitive) -> Callable:
    """Run one control-flow equation on the current backend as a single program.

    Each eager call stages fresh sub-jaxprs, so a compile cache keyed by them
    would only grow; the one-equation program is compiled for this call alone.
    """

    def run(*args, **params):
        device, committed = dispatch.placement_of(args)
        arrays = dispatch.to_arrays(args, device)
        in_avals = tuple(a.aval for a in arrays)
        closed = dispatch.single_primitive_jaxpr(primitive, params, in_avals)
        executable = device.backend.compile(closed, device)
        return dispatch.execute(executable, arrays, device, committed)

    return run


def scalar_zero(dtype) -> np.generic:
    return np.zeros((), dtype)[()]
