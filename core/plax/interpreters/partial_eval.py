"""Staging Python functions out into jaxprs (what ``jit`` and ``make_jaxpr`` use).

``JaxprTrace`` is a *dynamic* trace: while it is active every ``bind`` goes to
it, even on constants, so the whole function is captured. Each tracer stands
for a jaxpr variable; the builder records one equation per primitive.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from plax import core
from plax.abstract import ShapedArray, aval_of_constant, is_python_scalar
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var


class JaxprTracer(core.Tracer):
    __slots__ = ("_aval",)

    def __init__(self, trace: "JaxprTrace", aval: ShapedArray):
        self._trace = trace
        self._aval = aval

    @property
    def aval(self) -> ShapedArray:
        return self._aval


class JaxprBuilder:
    """The state of one jaxpr being built: equations and tracer-to-variable map."""

    def __init__(self):
        self.eqns: list[JaxprEqn] = []
        self.atoms: dict[int, Var | Literal] = {}
        self.tracers: list[JaxprTracer] = []  # keeps ids stable while building
        self.constvar_of: dict[int, Var] = {}  # id(const value) -> constvar
        self.consts: list[tuple[Var, object]] = []

    def new_tracer(self, trace, aval: ShapedArray) -> JaxprTracer:
        tracer = JaxprTracer(trace, aval)
        self.tracers.append(tracer)
        self.atoms[id(tracer)] = Var(aval)
        return tracer

    def atom(self, tracer: JaxprTracer) -> Var | Literal:
        return self.atoms[id(tracer)]

    def const_tracer(self, trace, value) -> JaxprTracer:
        if isinstance(value, _LiteralBox):
            tracer = JaxprTracer(trace, value.aval)
            self.tracers.append(tracer)
            self.atoms[id(tracer)] = Literal(value.val, value.aval)
            return tracer
        if is_python_scalar(value) or isinstance(value, np.generic):
            aval = aval_of_constant(value)
            tracer = JaxprTracer(trace, aval)
            self.tracers.append(tracer)
            self.atoms[id(tracer)] = Literal(value, aval)
            return tracer
        var = self.constvar_of.get(id(value))
        if var is None:
            aval = core.get_aval(value)
            var = Var(aval)
            self.constvar_of[id(value)] = var
            self.consts.append((var, value))
        tracer = JaxprTracer(trace, var.aval)
        self.tracers.append(tracer)
        self.atoms[id(tracer)] = var
        return tracer

    def build(self, in_tracers, out_tracers) -> ClosedJaxpr:
        constvars = [v for v, _ in self.consts]
        constvals = [c for _, c in self.consts]
        jaxpr = Jaxpr(
            constvars,
            [self.atom(t) for t in in_tracers],
            [self.atom(t) for t in out_tracers],
            self.eqns,
        )
        return ClosedJaxpr(jaxpr, constvals)


class JaxprTrace(core.Trace):
    @property
    def builder(self) -> JaxprBuilder:
        return self.main.payload

    def new_arg(self, aval: ShapedArray) -> JaxprTracer:
        return self.builder.new_tracer(self, aval)

    def pure(self, val):
        return self.builder.const_tracer(self, val)

    # A tracer of an outer transformation becomes a constant of this jaxpr.
    lift = pure

    def process_primitive(self, primitive, tracers, params):
        in_avals = [t.aval for t in tracers]
        out_avals = primitive.abstract_eval(*in_avals, **params)
        builder = self.builder
        folded = _fold_literals(builder, primitive, tracers, params, out_avals)
        if folded is not None:
            return [builder.const_tracer(self, v) for v in folded]
        outs = [builder.new_tracer(self, a) for a in out_avals]
        eqn = JaxprEqn(
            primitive,
            tuple(builder.atom(t) for t in tracers),
            params,
            tuple(builder.atom(t) for t in outs),
        )
        builder.eqns.append(eqn)
        return outs


# Primitives evaluated at trace time when every operand is a scalar literal, so
# that e.g. ``x * 2.0`` on float16 records the literal ``2.0:f16[]``.
const_fold_primitives: set = set()


def _fold_literals(builder, primitive, tracers, params, out_avals):
    if primitive not in const_fold_primitives:
        return None
    atoms = [builder.atom(t) for t in tracers]
    if not all(isinstance(a, Literal) for a in atoms):
        return None
    if any(a.shape != () for a in out_avals):
        return None
    from plax.interpreters.reference import apply

    values = apply(primitive, [a.val for a in atoms], params, out_avals)
    return [_LiteralBox(v, aval) for v, aval in zip(values, out_avals)]


class _LiteralBox:
    """A scalar constant with an explicit aval (weak types survive folding)."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval


def trace_to_jaxpr(flat_fun: Callable, in_avals: Sequence[ShapedArray]) -> ClosedJaxpr:
    """Stage ``flat_fun`` (flat list of arrays in, flat list out) into a ClosedJaxpr."""
    builder = JaxprBuilder()
    with core.new_main(JaxprTrace, builder, dynamic=True) as main:
        trace = JaxprTrace(main)
        in_tracers = [trace.new_arg(a) for a in in_avals]
        outs = flat_fun(*in_tracers)
        out_tracers = [core.full_raise(trace, o) for o in outs]
        return builder.build(in_tracers, out_tracers)


def convert_constvars_to_invars(closed: ClosedJaxpr) -> tuple[ClosedJaxpr, list]:
    """Turn consts that are tracers of an outer transformation into leading inputs.

    Such consts must flow through the outer transformation as arguments; plain
    constants (arrays, numpy values) stay closed over.
    """
    jaxpr = closed.jaxpr
    kept_vars, kept_vals, lifted_vars, lifted_vals = [], [], [], []
    for var, val in zip(jaxpr.constvars, closed.consts):
        if isinstance(val, core.Tracer):
            lifted_vars.append(var)
            lifted_vals.append(val)
        else:
            kept_vars.append(var)
            kept_vals.append(val)
    if not lifted_vars:
        return closed, []
    new = Jaxpr(kept_vars, lifted_vars + list(jaxpr.invars), jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(new, kept_vals), lifted_vals
