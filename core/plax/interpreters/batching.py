"""Batching: the trace behind ``vmap``.

A ``BatchTracer`` stands for one example of a batch. It holds the whole batch
(``val``) and the position of the batch axis in it (``batch_dim``), or
``not_mapped`` when the value is the same for every example. ``BatchTrace``
interprets each primitive with its rule from ``batch_rules``:

    batch_rules[p](args, batch_dims, **params) -> (outs, out_batch_dims)

``args`` are the batched values (the ``val`` of each tracer, which may be
tracers of outer transformations), ``batch_dims`` their batch axes
(``not_mapped`` for unbatched operands), ``params`` the primitive's params.
A rule returns lists, even for one result. It is only called when at least
one operand is batched; an operation on unbatched operands runs unchanged.

Rules move a batch axis only when the operation needs it somewhere specific,
so a chain of elementwise operations on an array batched along axis 1 never
transposes. The helpers below (``moveaxis``, ``bdim_at_front``,
``broadcast_batched``, ``matchaxis``) are what rules use to move or create
batch axes; ``batch_jaxpr`` and ``batch_jaxpr_axes`` batch a whole jaxpr (for
``jit`` and control flow).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from plax import core
from plax.abstract import ShapedArray
from plax.interpreters.jvp import eval_jaxpr_parts
from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal

batch_rules: dict[object, Callable] = {}

# The batch axis of a value that is the same for every example.
not_mapped = None


class AxisData(NamedTuple):
    """What a running ``vmap`` maps over: its size and (optional) name."""

    size: int
    name: object = None


# ----------------------------------------------------------------------------
# Tracer and trace.


class BatchTracer(core.Tracer):
    __slots__ = ("batch_dim", "val")

    def __init__(self, trace: "BatchTrace", val, batch_dim: int | None):
        self._trace = trace
        self.val = val
        self.batch_dim = batch_dim

    @property
    def aval(self) -> ShapedArray:
        aval = core.get_aval(self.val)
        if self.batch_dim is not_mapped:
            return aval
        shape = aval.shape[: self.batch_dim] + aval.shape[self.batch_dim + 1 :]
        return ShapedArray(shape, aval.dtype, aval.weak_type)

    def full_lower(self):
        if self.batch_dim is not_mapped:
            return core.full_lower(self.val)
        return self


class BatchTrace(core.Trace):
    @property
    def axis_data(self) -> AxisData:
        return self.main.payload

    def pure(self, val) -> BatchTracer:
        return BatchTracer(self, val, not_mapped)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.batch_dim for t in tracers]
        if all(d is not_mapped for d in dims):
            outs = primitive.bind(*vals, **params)
            outs = outs if primitive.multiple_results else [outs]
            return [BatchTracer(self, o, not_mapped) for o in outs]
        rule = batch_rules.get(primitive)
        if rule is None:
            raise NotImplementedError(
                f"vmap: primitive {primitive.name!r} has no batching rule, so it cannot be "
                "applied to batched (vmapped) operands. Register one in "
                "plax.interpreters.batching.batch_rules next to the primitive."
            )
        outs, out_dims = rule(vals, dims, **params)
        return [BatchTracer(self, o, d) for o, d in zip(outs, out_dims)]


# ----------------------------------------------------------------------------
# Moving and creating batch axes.


def ndim_of(x) -> int:
    return core.get_aval(x).ndim


def axis_size_of(args: Sequence, dims: Sequence) -> int:
    """The batch size, read off the first batched operand."""
    for x, d in zip(args, dims):
        if d is not not_mapped:
            return core.get_aval(x).shape[d]
    raise ValueError("axis_size_of needs at least one batched operand")


def moveaxis(x, src: int, dst: int):
    """``x`` with axis ``src`` moved to position ``dst`` (a transpose, if needed at all)."""
    ndim = ndim_of(x)
    src = src % ndim
    dst = dst % ndim
    if src == dst:
        return x
    from plax.lax.shapes import transpose_p

    perm = [i for i in range(ndim) if i != src]
    perm.insert(dst, src)
    return transpose_p.bind(x, permutation=tuple(perm))


def broadcast_batched(x, size: int, axis: int = 0):
    """An unbatched ``x`` repeated ``size`` times along a new axis ``axis``."""
    from plax.lax.shapes import broadcast_in_dim_p

    aval = core.get_aval(x)
    axis = axis % (aval.ndim + 1)
    shape = aval.shape[:axis] + (size,) + aval.shape[axis:]
    dims = tuple(i for i in range(aval.ndim + 1) if i != axis)
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=dims)


def matchaxis(x, src: int | None, dst: int, size: int):
    """``x`` batched along ``dst``: moved there from ``src``, or broadcast if unbatched."""
    if src is not_mapped:
        return broadcast_batched(x, size, dst)
    return moveaxis(x, src, dst)


def bdim_at_front(x, bdim: int | None, size: int):
    """``x`` with its batch axis first (broadcast to ``size`` if it is unbatched)."""
    return matchaxis(x, bdim, 0, size)


def shift_axis(axis: int, bdim: int) -> int:
    """Where axis ``axis`` of one example sits in the batched value (batch axis at bdim)."""
    return axis + 1 if axis >= bdim else axis


def shift_axes(axes: Sequence[int], bdim: int) -> tuple[int, ...]:
    return tuple(shift_axis(a, bdim) for a in axes)


def bdim_after_removing(bdim: int, removed: Sequence[int]) -> int:
    """The batch axis once the (batched-coordinate) axes ``removed`` are gone."""
    return bdim - sum(1 for a in removed if a < bdim)


# ----------------------------------------------------------------------------
# Rule families.


def vectorized_rule(primitive) -> Callable:
    """The rule of an operation that acts on each element (or each example) independently
    and does not care where the batch axis is: one operand, batch axis kept in place."""

    def rule(args, dims, **params):
        outs = primitive.bind(*args, **params)
        outs = outs if primitive.multiple_results else [outs]
        return outs, [dims[0]] * len(outs)

    return rule


def defvectorized(primitive) -> None:
    batch_rules[primitive] = vectorized_rule(primitive)


def align_batched(args: Sequence, dims: Sequence) -> tuple[list, int]:
    """Operands of one per-example shape, all batched along one axis.

    The target axis is the batch axis of the first batched operand, so operands
    that already agree are not moved; unbatched operands are broadcast, since a
    lax operation needs operands of equal shapes.
    """
    size = axis_size_of(args, dims)
    target = next(d for d in dims if d is not not_mapped)
    return [matchaxis(x, d, target, size) for x, d in zip(args, dims)], target


def broadcast_rule(primitive) -> Callable:
    """The rule of an n-ary elementwise operation (operands of equal shapes)."""

    def rule(args, dims, **params):
        args, bdim = align_batched(args, dims)
        outs = primitive.bind(*args, **params)
        outs = outs if primitive.multiple_results else [outs]
        return outs, [bdim] * len(outs)

    return rule


def defbroadcasting(primitive) -> None:
    batch_rules[primitive] = broadcast_rule(primitive)


# ----------------------------------------------------------------------------
# Running a function or a jaxpr batched.


def batch_flat(flat_fun: Callable, args: Sequence, in_dims: Sequence, axis_data: AxisData,
               out_dims: Callable[[list], Sequence]):
    """Run ``flat_fun`` (flat arrays in, flat list out) on one example at a time, batched.

    ``in_dims[i]`` is the batch axis of ``args[i]`` (non-negative) or ``not_mapped``.
    ``out_dims(avals)`` gives, from the per-example avals of the outputs, where each
    output's batch axis must go: a non-negative int (unbatched outputs are
    broadcast), or ``not_mapped`` (the output must not depend on the batch; an
    ``OutAxisError`` otherwise). Returns the outputs.
    """
    with core.new_main(BatchTrace, axis_data) as main:
        trace = BatchTrace(main)
        tracers = [x if d is not_mapped else BatchTracer(trace, x, d)
                   for x, d in zip(args, in_dims)]
        outs = flat_fun(*tracers)
        out_tracers = [core.full_raise(trace, o) for o in outs]
        wanted = out_dims([t.aval for t in out_tracers])
        results = []
        for index, (t, dst) in enumerate(zip(out_tracers, wanted)):
            if dst is not_mapped:
                if t.batch_dim is not not_mapped:
                    raise OutAxisError(index, dst, t.batch_dim)
                results.append(t.val)
            else:
                results.append(matchaxis(t.val, t.batch_dim, dst, axis_data.size))
    return results


class OutAxisError(ValueError):
    """An output batched along ``src`` was asked to be unbatched (``dst`` None)."""

    def __init__(self, index: int, dst, src):
        super().__init__(index, dst, src)
        self.index = index
        self.dst = dst
        self.src = src


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence, args: Sequence) -> list:
    """Evaluate ``jaxpr`` by binding each equation's primitive, so that whatever traces
    are running (batching, JVP, staging) see the operations; literals keep their exact
    type (``literal_value``)."""
    return eval_jaxpr_parts(jaxpr, consts, args, literal=literal_value)


def literal_value(atom: Literal):
    """A literal as a value of exactly its type (a weak literal stays weak, whatever its
    dtype: the JVP evaluator keeps only default-dtype weak literals weak)."""
    scalar = atom.val[()]
    if not atom.aval.weak_type:
        return scalar
    from plax.lax.convert import convert_element_type_p

    return convert_element_type_p.bind(scalar, new_dtype=atom.aval.dtype, weak_type=True)


def _batched_aval(aval: ShapedArray, dim: int | None, size: int) -> ShapedArray:
    if dim is not_mapped:
        return aval
    shape = aval.shape[:dim] + (size,) + aval.shape[dim:]
    return ShapedArray(shape, aval.dtype, aval.weak_type)


def batch_jaxpr_axes(closed: ClosedJaxpr, axis_size: int, in_dims: Sequence,
                     out_dims: Sequence | Callable | None = None, axis_name=None
                     ) -> tuple[ClosedJaxpr, list]:
    """``closed`` batched: its inputs carry batch axes ``in_dims`` (int or not_mapped).

    ``out_dims`` says where each output's batch axis goes: None keeps it where the
    rules left it; otherwise one entry per output (or a function from the list of
    natural output batch axes to such a list): an int moves the batch axis there,
    broadcasting an unbatched output; ``not_mapped`` keeps the output as it is.
    Returns the new jaxpr and the batch axes of its outputs.
    """
    from plax.interpreters.partial_eval import trace_to_jaxpr

    in_dims = list(in_dims)
    in_avals = [_batched_aval(a, d, axis_size) for a, d in zip(closed.in_avals, in_dims)]
    found: list = []

    def flat_fun(*args):
        with core.new_main(BatchTrace, AxisData(axis_size, axis_name)) as main:
            trace = BatchTrace(main)
            tracers = [BatchTracer(trace, x, d) for x, d in zip(args, in_dims)]
            outs = eval_jaxpr(closed.jaxpr, closed.consts, tracers)
            out_tracers = [core.full_raise(trace, o) for o in outs]
            natural = [t.batch_dim for t in out_tracers]
            if out_dims is None:
                wanted = [not_mapped] * len(out_tracers)
            elif callable(out_dims):
                wanted = list(out_dims(natural))
            else:
                wanted = list(out_dims)
            results = []
            for t, dst in zip(out_tracers, wanted):
                if dst is not_mapped:
                    results.append(t.val)
                    found.append(t.batch_dim)
                else:
                    results.append(matchaxis(t.val, t.batch_dim, dst, axis_size))
                    found.append(dst)
            return results

    batched = trace_to_jaxpr(flat_fun, in_avals)
    return batched, found


def batch_jaxpr(closed: ClosedJaxpr, axis_size: int, in_batched: Sequence[bool],
                instantiate: bool | Sequence[bool], axis_name=None
                ) -> tuple[ClosedJaxpr, list[bool]]:
    """JAX's form for control flow: every batch axis at position 0.

    ``in_batched[i]``: input i has a leading batch axis. ``instantiate``: a bool, or
    one per output, forcing that output to be batched (broadcast if it does not
    depend on the batch). Returns the jaxpr and which outputs are batched.
    """
    n_out = len(closed.out_avals)
    if isinstance(instantiate, (bool, np.bool_)):
        instantiate = [bool(instantiate)] * n_out
    instantiate = list(instantiate)
    in_dims = [0 if b else not_mapped for b in in_batched]

    def leading(natural):
        return [0 if (d is not not_mapped or inst) else not_mapped
                for d, inst in zip(natural, instantiate)]

    batched, dims = batch_jaxpr_axes(closed, axis_size, in_dims, leading, axis_name)
    return batched, [d is not not_mapped for d in dims]
