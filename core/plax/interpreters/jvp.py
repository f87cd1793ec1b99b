"""Forward-mode differentiation: the JVP trace, symbolic zeros and rule helpers.

A ``JVPTracer`` carries a primal value and its tangent. ``JVPTrace`` applies
each primitive to the primals and asks ``jvp_rules`` for the tangents:

    jvp_rules[p](primals, tangents, **params) -> (primal_outs, tangent_outs)

Both results are lists. A tangent may be the symbolic zero ``Zero(aval)``, so
paths that do not depend on the differentiated inputs cost nothing: when every
input tangent of an equation is zero the rule is not called at all, and a
tracer whose tangent is zero lowers back to its primal. Integer and bool
values never have tangents (JAX's float0): the trace replaces their tangents by
``Zero``, and a primitive whose outputs are all integer or bool needs no rule.

The lax modules fill ``jvp_rules`` next to each primitive, mostly through the
helpers at the bottom (``defjvp``, ``defjvp2``, ``linear_jvp``,
``bilinear_jvp``, ``zero_jvp``; ``call_jvp`` for call primitives).
This module never imports ``plax.lax`` at import time (the arrows point from
lax to here); the few lax operations the helpers need are imported on use.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.configuration import config
from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal

jvp_rules: dict[object, Callable] = {}


# ----------------------------------------------------------------------------
# Symbolic zeros.


class Zero:
    """A tangent (or cotangent) known to be zero, with the aval it stands for."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"Zero({self.aval.str_short()})"


def is_zero(x) -> bool:
    return isinstance(x, Zero)


def is_differentiable(aval: ShapedArray) -> bool:
    """Only floating values have tangents; integers and bools have float0 (none)."""
    return dtypes.is_float(aval.dtype)


def zeros_like_aval(aval: ShapedArray):
    from plax.lax.shapes import full

    return full(aval.shape, np.zeros((), aval.dtype), aval.dtype)


def instantiate(t):
    """A dense array for a symbolic zero; any other value unchanged."""
    return zeros_like_aval(t.aval) if isinstance(t, Zero) else t


def add_tangents(x, y):
    if isinstance(x, Zero):
        return y
    if isinstance(y, Zero):
        return x
    from plax.lax.elementwise import add_p

    return add_p.bind(x, y)


# ----------------------------------------------------------------------------
# The trace.


class JVPTracer(core.Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace: JVPTrace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self) -> ShapedArray:
        return core.get_aval(self.primal)

    def full_lower(self):
        if isinstance(self.tangent, Zero):
            return core.full_lower(self.primal)
        return self


class JVPTrace(core.Trace):
    def pure(self, val):
        return JVPTracer(self, val, Zero(core.get_aval(val)))

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        if all(isinstance(t, Zero) for t in tangents):
            return _as_list(primitive, primitive.bind(*primals, **params))
        rule = jvp_rules.get(primitive)
        if rule is None:
            outs = _as_list(primitive, primitive.bind(*primals, **params))
            if any(is_differentiable(core.get_aval(o)) for o in outs):
                raise NotImplementedError(
                    f"Differentiation rule for '{primitive.name}' not implemented: add "
                    f"jvp_rules[{primitive.name}_p] next to the primitive"
                )
            return outs  # integer/bool results: tangents are zero
        primal_outs, tangent_outs = rule(primals, tangents, **params)
        return [
            JVPTracer(self, x, _checked_tangent(x, t)) for x, t in zip(primal_outs, tangent_outs)
        ]


def _as_list(primitive, out) -> list:
    return list(out) if primitive.multiple_results else [out]


def _checked_tangent(primal, tangent):
    aval = core.get_aval(primal)
    if not is_differentiable(aval):
        return Zero(aval)
    return tangent


def jvp_flat(fun: Callable, primals: Sequence, tangents: Sequence) -> tuple[list, list]:
    """Run ``fun`` (flat list in, flat list out) on primals with tangents (``Zero`` allowed)."""
    with core.new_main(JVPTrace) as main:
        trace = JVPTrace(main)
        tracers_in = [
            JVPTracer(trace, p, Zero(core.get_aval(p)) if not _has_tangent(p, t) else t)
            for p, t in zip(primals, tangents)
        ]
        outs = fun(*tracers_in)
        tracers_out = [core.full_raise(trace, o) for o in outs]
        primals_out = [t.primal for t in tracers_out]
        tangents_out = [_checked_tangent(t.primal, t.tangent) for t in tracers_out]
    return primals_out, tangents_out


def _has_tangent(primal, tangent) -> bool:
    return not isinstance(tangent, Zero) and is_differentiable(core.get_aval(primal))


# ----------------------------------------------------------------------------
# Jaxprs: evaluation by binding, and the JVP of a jaxpr.


def _literal_value(lit: Literal):
    """A literal as a value that binds with the literal's aval (weak scalars stay weak)."""
    aval = lit.aval
    if aval.weak_type and aval.dtype == dtypes.canonicalize_dtype(type(lit.val.item())):
        return lit.val.item()
    return lit.val[()]  # a numpy scalar: staged again as a literal, not a constant


def eval_jaxpr(closed, args) -> list:
    """Evaluate a ClosedJaxpr (or a ``(Jaxpr, consts)`` pair) by binding each equation,
    so that it runs eagerly or under any active transformation."""
    if isinstance(closed, ClosedJaxpr):
        jaxpr, consts = closed.jaxpr, closed.consts
    else:
        jaxpr, consts = closed
    return eval_jaxpr_parts(jaxpr, consts, args)


def eval_jaxpr_parts(jaxpr: Jaxpr, consts, args, literal: Callable = _literal_value) -> list:
    """``eval_jaxpr`` on the parts of a closed jaxpr; ``literal`` turns each Literal
    into the value bound in its place."""
    env: dict = {}

    def read(atom):
        return literal(atom) if isinstance(atom, Literal) else env[atom]

    for var, val in zip(jaxpr.constvars, consts):
        env[var] = val
    for var, val in zip(jaxpr.invars, args):
        env[var] = val
    for eqn in jaxpr.eqns:
        outs = eqn.primitive.bind(*[read(a) for a in eqn.invars], **eqn.params)
        outs = outs if eqn.primitive.multiple_results else [outs]
        for var, val in zip(eqn.outvars, outs):
            env[var] = val
    return [read(a) for a in jaxpr.outvars]


def _per_output(flag, n: int) -> list[bool]:
    return [bool(flag)] * n if isinstance(flag, (bool, np.bool_)) else [bool(f) for f in flag]


def cached_on_jaxpr(fn: Callable) -> Callable:
    """Memoise ``fn(closed, *flags)`` per ClosedJaxpr (held weakly) and flags, so that
    repeated differentiation of one jitted function reuses the same derived jaxprs (and
    their compiled programs). Jaxprs closing over tracers are not cached."""
    cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    signature = inspect.signature(fn)

    def cached(closed: ClosedJaxpr, *args, **kwargs):
        if any(isinstance(c, core.Tracer) for c in closed.consts):
            return fn(closed, *args, **kwargs)
        bound = signature.bind(closed, *args, **kwargs)
        bound.apply_defaults()
        flags = list(bound.arguments.values())[1:]
        key = (_flags_key(flags), config.read("enable_x64"))
        per_jaxpr = cache.setdefault(closed, {})
        if key not in per_jaxpr:
            per_jaxpr[key] = fn(*bound.args, **bound.kwargs)
        return per_jaxpr[key]

    return functools.wraps(fn)(cached)


def _flags_key(flags) -> tuple:
    return tuple(
        None if f is None else bool(f) if isinstance(f, (bool, np.bool_)) else tuple(map(bool, f))
        for f in flags
    )


@cached_on_jaxpr
def jvp_jaxpr(closed: ClosedJaxpr, nonzeros: Sequence[bool], instantiate) -> tuple:
    """The JVP of a jaxpr as a jaxpr.

    Returns ``(jvp_closed, out_nonzeros)``: ``jvp_closed`` maps
    ``[*primals, *tangents of the nonzero inputs]`` to
    ``[*primal outputs, *tangents of the out_nonzeros outputs]``. ``instantiate``
    (a bool or one per output) forces a dense tangent for floating outputs.
    Integer and bool inputs and outputs never have tangents.
    """
    from plax.interpreters.partial_eval import trace_to_jaxpr

    in_avals = closed.in_avals
    nonzeros = [bool(nz) and is_differentiable(a) for nz, a in zip(nonzeros, in_avals)]
    force = _per_output(instantiate, len(closed.out_avals))
    tangent_avals = [a for a, nz in zip(in_avals, nonzeros) if nz]
    out_nonzeros: list[bool] = []

    def fun(*args):
        primals = args[: len(in_avals)]
        given = iter(args[len(in_avals) :])
        tangents = [next(given) if nz else Zero(a) for a, nz in zip(in_avals, nonzeros)]
        primals_out, tangents_out = jvp_flat(lambda *xs: eval_jaxpr(closed, xs), primals, tangents)
        dense = []
        for x, t, f in zip(primals_out, tangents_out, force):
            keep = not isinstance(t, Zero) or (f and is_differentiable(core.get_aval(x)))
            out_nonzeros.append(keep)
            if keep:
                dense.append(zeros_like_aval(t.aval) if isinstance(t, Zero) else t)
        return list(primals_out) + dense

    jvp_closed = trace_to_jaxpr(fun, list(in_avals) + tangent_avals)
    return jvp_closed, out_nonzeros


def call_jvp(closed: ClosedJaxpr, primals, tangents, bind: Callable) -> tuple[list, list]:
    """The JVP rule of a call primitive holding ``closed`` (``jit``, ``checkpoint``): the
    primitive applied to the JVP of its jaxpr. ``bind(jvp_closed, *operands)`` binds it
    with the new jaxpr; the operands are its lifted consts, the primals and the tangents
    that are not symbolic zeros."""
    from plax import passes
    from plax.interpreters.partial_eval import convert_constvars_to_invars

    nonzeros = [
        not isinstance(t, Zero) and is_differentiable(a) for t, a in zip(tangents, closed.in_avals)
    ]
    jvp_closed, out_nonzeros = jvp_jaxpr(closed, nonzeros, instantiate=False)
    jvp_closed, lifted = convert_constvars_to_invars(passes.simplify(jvp_closed))
    dense = [t for t, nz in zip(tangents, nonzeros) if nz]
    outs = bind(jvp_closed, *lifted, *primals, *dense)
    n = len(closed.out_avals)
    tangent_outs = iter(outs[n:])
    tangents_out = [
        next(tangent_outs) if nz else Zero(a) for a, nz in zip(closed.out_avals, out_nonzeros)
    ]
    return outs[:n], tangents_out


# ----------------------------------------------------------------------------
# Helpers for the lax modules' rules.


def _bind_list(primitive, primals, params) -> list:
    return _as_list(primitive, primitive.bind(*primals, **params))


def defjvp(primitive, *tangent_fns) -> None:
    """JVP from one function per operand: ``fn(g, *primals, **params)`` is the tangent
    contributed by operand tangent ``g`` (None: the operand is not differentiable)."""

    def rule(primals, tangents, **params):
        (out,) = _bind_list(primitive, primals, params)
        total = Zero(core.get_aval(out))
        for fn, g in zip(tangent_fns, tangents):
            if fn is not None and not isinstance(g, Zero):
                total = add_tangents(total, fn(g, *primals, **params))
        return [out], [total]

    jvp_rules[primitive] = rule


def defjvp2(primitive, *tangent_fns) -> None:
    """Like ``defjvp`` but each function also sees the result: ``fn(g, ans, *primals)``."""

    def rule(primals, tangents, **params):
        (out,) = _bind_list(primitive, primals, params)
        total = Zero(core.get_aval(out))
        for fn, g in zip(tangent_fns, tangents):
            if fn is not None and not isinstance(g, Zero):
                total = add_tangents(total, fn(g, out, *primals, **params))
        return [out], [total]

    jvp_rules[primitive] = rule


def linear_jvp(primitive) -> Callable:
    """The JVP of a primitive linear in all its operands: apply it to the tangents."""

    def rule(primals, tangents, **params):
        outs = _bind_list(primitive, primals, params)
        dense = [instantiate(t) for t in tangents]
        return outs, _bind_list(primitive, dense, params)

    return rule


def bilinear_jvp(primitive) -> Callable:
    """The JVP of a primitive linear in each of its two operands (dot_general, conv):
    d(x * y) = dx * y + x * dy."""

    def rule(primals, tangents, **params):
        (x, y), (tx, ty) = primals, tangents
        out = primitive.bind(x, y, **params)
        t_out = Zero(core.get_aval(out))
        if not isinstance(tx, Zero):
            t_out = add_tangents(t_out, primitive.bind(tx, y, **params))
        if not isinstance(ty, Zero):
            t_out = add_tangents(t_out, primitive.bind(x, ty, **params))
        return [out], [t_out]

    return rule


def zero_jvp(primitive) -> Callable:
    """The JVP of a piecewise-constant primitive (floor, sign, ...): zero tangents."""

    def rule(primals, tangents, **params):
        outs = _bind_list(primitive, primals, params)
        return outs, [Zero(core.get_aval(o)) for o in outs]

    return rule
