"""Reverse mode: linearize by partial evaluation of the JVP, then transpose.

How ``vjp(f, x)`` works (JAX's design, as in "Autodidax"):

1. **JVP with unknown tangents.** ``f`` runs under the JVP trace with the real
   primal values and, as tangents, *unknown* tracers of a ``PartialEvalTrace``
   below it. Every primal operation sees only known values, so it runs at once
   (eagerly, or staged into an enclosing ``jit``); Python control flow on
   primal values works as it does without ``grad``. Every tangent operation has
   an unknown input and is recorded instead, into the *linear jaxpr*: a program
   from input tangents to output tangents whose constants (residuals) are the
   primal values the tangent rules used, e.g. ``cos x`` for ``sin``.
2. **Transpose.** ``backward_pass`` walks the linear jaxpr backwards and asks
   ``transpose_rules`` (``plax.interpreters.transpose``) for the cotangents of
   each equation's linear inputs. Cotangents of a variable used several times
   are summed; symbolic zeros (``jvp.Zero``) are never materialised.

``linearize`` is step 1 alone; ``jvp`` of the linear jaxpr is evaluating it.

Primitives with sub-jaxprs (``jit``, ``cond``, ``scan``, ...) split into a
known and a staged equation with a rule in ``partial_eval_rules``:

    partial_eval_rules[p](eqn, unknowns) -> (known_eqns, staged_eqns, out_unknowns)

``eqn`` is a ``JaxprEqn``; ``unknowns`` has one bool per ``eqn.invars`` (some
True). ``known_eqns`` read only the eqn's known inputs and Vars they define;
they define each known ``eqn.outvars[i]`` (``out_unknowns[i]`` False) and any
residual Vars the staged side needs. ``staged_eqns`` read the eqn's inputs and
those residuals, and define the unknown outputs; they must be linear in the
unknown inputs. Every known Var the staged side reads becomes a residual by
itself. The same rule serves the online ``PartialEvalTrace`` (known equations
are evaluated with ``bind``) and ``partial_eval_jaxpr`` on nested jaxprs. A
primitive without a rule is staged whole when any input is unknown.

Helpers for rules on sub-jaxprs: ``jvp.jvp_jaxpr``, ``partial_eval_jaxpr``,
``transpose_jaxpr``, ``backward_pass`` and ``jvp.eval_jaxpr``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from plax import core, passes
from plax.abstract import ShapedArray, aval_of_constant, is_python_scalar
from plax.api import jit_p
from plax.interpreters import jvp as ad_jvp
from plax.interpreters.jvp import Zero, add_tangents, cached_on_jaxpr, jvp_jaxpr, jvp_rules
from plax.interpreters.partial_eval import convert_constvars_to_invars, trace_to_jaxpr
from plax.interpreters.transpose import UndefPrimal, is_undefined_primal, transpose_rules
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var

__all__ = [
    "backward_pass",
    "linearize_flat",
    "partial_eval_jaxpr",
    "partial_eval_rules",
    "transpose_jaxpr",
    "vjp_flat",
]

partial_eval_rules: dict[object, Callable] = {}


# ----------------------------------------------------------------------------
# The online partial-evaluation trace: known values run, unknown ones are staged.


class _LinearBuilder:
    """The linear jaxpr being recorded: equations, and atoms for tracers and constants."""

    def __init__(self):
        self.eqns: list[JaxprEqn] = []
        self.var_of: dict[int, Var] = {}  # id(tracer) -> Var
        self.tracers: list = []  # keeps the ids above stable
        self.constvar_of: dict[int, Var] = {}  # id(value) -> constvar
        self.consts: list[tuple[Var, object]] = []

    def new_tracer(self, trace, aval: ShapedArray, var: Var | None = None):
        tracer = PartialEvalTracer(trace, aval)
        self.tracers.append(tracer)
        self.var_of[id(tracer)] = Var(aval) if var is None else var
        return tracer

    def known_atom(self, value):
        """A known value as an atom: a literal for concrete scalars, else a (residual)
        constvar."""
        if is_python_scalar(value) or isinstance(value, np.generic):
            return Literal(value, aval_of_constant(value))
        if not isinstance(value, core.Tracer) and core.get_aval(value).shape == ():
            return Literal(np.asarray(value), core.get_aval(value))
        var = self.constvar_of.get(id(value))
        if var is None:
            var = Var(core.get_aval(value))
            self.constvar_of[id(value)] = var
            self.consts.append((var, value))
        return var

    def atom(self, tracer: PartialEvalTracer):
        if tracer.known is not None:
            return self.known_atom(tracer.known)
        return self.var_of[id(tracer)]

    def build(self, in_tracers, outs) -> ClosedJaxpr:
        invars = [self.var_of[id(t)] for t in in_tracers]
        outvars = [
            self.atom(o) if isinstance(o, PartialEvalTracer) else self.known_atom(o) for o in outs
        ]
        jaxpr = Jaxpr([v for v, _ in self.consts], invars, outvars, self.eqns)
        closed = ClosedJaxpr(passes.dce(jaxpr), [c for _, c in self.consts])
        return passes.prune_consts(closed)


class PartialEvalTracer(core.Tracer):
    """An unknown value (a Var of the linear jaxpr), or a known value boxed for a moment."""

    __slots__ = ("_aval", "known")

    def __init__(self, trace, aval: ShapedArray, known=None):
        self._trace = trace
        self._aval = aval
        self.known = known

    @property
    def aval(self) -> ShapedArray:
        return self._aval

    def full_lower(self):
        return self if self.known is None else core.full_lower(self.known)


class PartialEvalTrace(core.Trace):
    @property
    def builder(self) -> _LinearBuilder:
        return self.main.payload

    def new_arg(self, aval: ShapedArray) -> PartialEvalTracer:
        return self.builder.new_tracer(self, aval)

    def pure(self, val):
        return PartialEvalTracer(self, core.get_aval(val), known=val)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        if all(t.known is not None for t in tracers):
            out = primitive.bind(*[t.known for t in tracers], **params)
            return list(out) if primitive.multiple_results else [out]
        rule = partial_eval_rules.get(primitive)
        if rule is not None:
            return self._process_with_rule(rule, primitive, tracers, params)
        builder = self.builder
        out_avals = primitive.abstract_eval(*[t.aval for t in tracers], **params)
        outs = [builder.new_tracer(self, a) for a in out_avals]
        eqn = JaxprEqn(
            primitive,
            tuple(builder.atom(t) for t in tracers),
            params,
            tuple(builder.var_of[id(o)] for o in outs),
        )
        builder.eqns.append(eqn)
        return outs

    def _process_with_rule(self, rule, primitive, tracers, params):
        """Split one equation with its jaxpr-level rule, run the known part now and
        record the staged part."""
        builder = self.builder
        in_vars = [Var(t.aval) for t in tracers]
        out_avals = primitive.abstract_eval(*[t.aval for t in tracers], **params)
        out_vars = [Var(a) for a in out_avals]
        eqn = JaxprEqn(primitive, tuple(in_vars), params, tuple(out_vars))
        unknowns = [t.known is None for t in tracers]
        known_eqns, staged_eqns, out_unknowns = rule(eqn, unknowns)

        known_env = {v: t.known for v, t in zip(in_vars, tracers) if t.known is not None}
        for k_eqn in known_eqns:
            ins = [_read_known(known_env, a) for a in k_eqn.invars]
            outs = k_eqn.primitive.bind(*ins, **k_eqn.params)
            outs = outs if k_eqn.primitive.multiple_results else [outs]
            known_env.update(zip(k_eqn.outvars, outs))

        rename = {v: builder.var_of[id(t)] for v, t in zip(in_vars, tracers) if t.known is None}

        def staged_atom(a):
            if isinstance(a, Literal):
                return a
            if a in rename:
                return rename[a]
            if a in known_env:
                return builder.known_atom(known_env[a])
            return a  # defined by an earlier staged equation

        for s_eqn in staged_eqns:
            builder.eqns.append(s_eqn.replace(invars=tuple(staged_atom(a) for a in s_eqn.invars)))
        results = []
        for var, unknown in zip(out_vars, out_unknowns):
            if unknown:
                results.append(builder.new_tracer(self, var.aval, var))
            else:
                results.append(known_env[var])
        return results


def _read_known(env: dict, atom):
    if isinstance(atom, Literal):
        return ad_jvp._literal_value(atom)
    return env[atom]


# ----------------------------------------------------------------------------
# linearize and vjp on flat lists.


def linearize_flat(fun: Callable, primals: Sequence) -> tuple[list, ClosedJaxpr, list, list]:
    """Run ``fun`` forward and record its linearization.

    Returns ``(primals_out, linear, in_nonzeros, out_nonzeros)``: ``linear`` maps
    the tangents of the inputs flagged in ``in_nonzeros`` (the floating ones) to
    the tangents of the outputs flagged in ``out_nonzeros`` (the others are zero).
    """
    builder = _LinearBuilder()
    with core.new_main(PartialEvalTrace, builder) as main:
        trace = PartialEvalTrace(main)
        in_avals = [core.get_aval(p) for p in primals]
        in_nonzeros = [ad_jvp.is_differentiable(a) for a in in_avals]
        tangents_in = [trace.new_arg(a) if nz else Zero(a) for a, nz in zip(in_avals, in_nonzeros)]
        primals_out, tangents_out = ad_jvp.jvp_flat(fun, primals, tangents_in)
        for p in primals_out:
            if isinstance(p, PartialEvalTracer) and p._trace.main is main:
                raise AssertionError(
                    "internal error in linearize: a primal output depends on the tangents; "
                    "some jvp rule mixes primal and tangent values"
                )
        out_nonzeros = [not isinstance(t, Zero) for t in tangents_out]
        linear = builder.build(
            [t for t in tangents_in if not isinstance(t, Zero)],
            [t for t in tangents_out if not isinstance(t, Zero)],
        )
    return [core.full_lower(p) for p in primals_out], linear, in_nonzeros, out_nonzeros


def vjp_flat(fun: Callable, primals: Sequence) -> tuple[list, Callable]:
    """``(primals_out, pullback)``; ``pullback(cts_out)`` takes one cotangent per output
    (``Zero`` allowed) and returns one per input (``Zero`` where none flows)."""
    primals_out, linear, in_nonzeros, out_nonzeros = linearize_flat(fun, primals)
    in_avals = [core.get_aval(p) for p in primals]

    def pullback(cts_out: Sequence) -> list:
        cts = [ct for ct, nz in zip(cts_out, out_nonzeros) if nz]
        args = [UndefPrimal(v.aval) for v in linear.jaxpr.invars]
        cts_in = iter(backward_pass(linear.jaxpr, linear.consts, args, cts))
        out = []
        for aval, nz in zip(in_avals, in_nonzeros):
            ct = next(cts_in) if nz else Zero(aval)
            out.append(Zero(aval) if ct is None else ct)
        return out

    return primals_out, pullback


# ----------------------------------------------------------------------------
# Transposition.


def backward_pass(jaxpr: Jaxpr, consts, args, cts) -> list:
    """Transpose a jaxpr linear in the inputs given as ``UndefPrimal``.

    ``args`` holds one entry per invar (``UndefPrimal`` or a value), ``cts`` one
    cotangent per outvar (``Zero`` allowed). Returns one entry per invar: its
    cotangent (possibly ``Zero``) for linear inputs, ``None`` for the others.
    Equations that do not depend on a linear input are evaluated forward first.
    """
    primal_env: dict = {}
    linear_vars: set = set()
    for var, val in zip(jaxpr.constvars, consts):
        primal_env[var] = val
    for var, val in zip(jaxpr.invars, args):
        if is_undefined_primal(val):
            linear_vars.add(var)
        else:
            primal_env[var] = val

    def is_linear(atom) -> bool:
        return isinstance(atom, Var) and atom in linear_vars

    def read_primal(atom):
        return ad_jvp._literal_value(atom) if isinstance(atom, Literal) else primal_env[atom]

    linear_eqns = []
    for eqn in jaxpr.eqns:
        if any(is_linear(a) for a in eqn.invars):
            linear_eqns.append(eqn)
            linear_vars.update(eqn.outvars)
            continue
        outs = eqn.primitive.bind(*[read_primal(a) for a in eqn.invars], **eqn.params)
        outs = outs if eqn.primitive.multiple_results else [outs]
        primal_env.update(zip(eqn.outvars, outs))

    ct_env: dict = {}

    def write_ct(var, ct, eqn=None):
        if isinstance(ct, Zero) or ct is None or not is_linear(var):
            return
        _check_cotangent(var, ct, eqn)
        ct_env[var] = add_tangents(ct_env[var], ct) if var in ct_env else ct

    for var, ct in zip(jaxpr.outvars, cts):
        write_ct(var, ct)
    for eqn in reversed(linear_eqns):
        eqn_cts = [ct_env.pop(v, None) for v in eqn.outvars]
        if all(ct is None for ct in eqn_cts):
            continue
        eqn_cts = [Zero(v.aval) if ct is None else ct for v, ct in zip(eqn.outvars, eqn_cts)]
        args_in = [UndefPrimal(a.aval) if is_linear(a) else read_primal(a) for a in eqn.invars]
        rule = transpose_rules.get(eqn.primitive)
        if rule is None:
            raise NotImplementedError(
                f"Transpose rule (for reverse-mode differentiation) for "
                f"'{eqn.primitive.name}' not implemented"
            )
        cts_in = rule(eqn_cts, *args_in, **eqn.params)
        for atom, arg, ct in zip(eqn.invars, args_in, cts_in):
            if is_undefined_primal(arg):
                write_ct(atom, ct, eqn)
    return [
        ct_env.get(var, Zero(var.aval)) if is_undefined_primal(arg) else None
        for var, arg in zip(jaxpr.invars, args)
    ]


def _check_cotangent(var: Var, ct, eqn) -> None:
    aval = core.get_aval(ct)
    if aval.shape != var.aval.shape or aval.dtype != var.aval.dtype:
        where = f"the transpose rule of '{eqn.primitive.name}'" if eqn else "the caller"
        raise TypeError(
            f"internal error in reverse mode: {where} produced a cotangent of type "
            f"{aval.str_short()} for a value of type {var.aval.str_short()}"
        )


@cached_on_jaxpr
def transpose_jaxpr(closed: ClosedJaxpr, linear: Sequence[bool], ct_nonzeros=None) -> ClosedJaxpr:
    """The transpose of a jaxpr linear in the inputs flagged by ``linear``.

    The result maps ``[*non-linear inputs, *cotangents of the outputs]`` (only the
    outputs flagged in ``ct_nonzeros``; default: the floating ones) to the dense
    cotangents of the linear inputs.
    """
    in_avals = closed.in_avals
    out_avals = closed.out_avals
    if ct_nonzeros is None:
        ct_nonzeros = [ad_jvp.is_differentiable(a) for a in out_avals]
    nonlinear_avals = [a for a, lin in zip(in_avals, linear) if not lin]
    ct_avals = [a for a, nz in zip(out_avals, ct_nonzeros) if nz]

    def fun(*args):
        given = iter(args[: len(nonlinear_avals)])
        given_cts = iter(args[len(nonlinear_avals) :])
        full_args = [UndefPrimal(a) if lin else next(given) for a, lin in zip(in_avals, linear)]
        full_cts = [next(given_cts) if nz else Zero(a) for a, nz in zip(out_avals, ct_nonzeros)]
        cts_in = backward_pass(closed.jaxpr, closed.consts, full_args, full_cts)
        return [ad_jvp.instantiate(ct) for ct, lin in zip(cts_in, linear) if lin]

    return passes.simplify(trace_to_jaxpr(fun, nonlinear_avals + ct_avals))


# ----------------------------------------------------------------------------
# Partial evaluation of a whole jaxpr.


@cached_on_jaxpr
def partial_eval_jaxpr(closed: ClosedJaxpr, unknowns: Sequence[bool], instantiate) -> tuple:
    """Split a jaxpr into a known and a staged part.

    Returns ``(known, staged, out_unknowns, num_res)``: ``known`` maps the known
    inputs to ``[*known outputs, *residuals]``; ``staged`` maps
    ``[*residuals, *unknown inputs]`` to the unknown outputs. ``instantiate`` (a
    bool or one per output) forces outputs to be unknown.
    """
    jaxpr = closed.jaxpr
    unknown_vars = {v for v, uk in zip(jaxpr.invars, unknowns) if uk}
    known_eqns: list[JaxprEqn] = []
    staged_eqns: list[JaxprEqn] = []
    for eqn in jaxpr.eqns:
        eqn_unknowns = [isinstance(a, Var) and a in unknown_vars for a in eqn.invars]
        if not any(eqn_unknowns):
            known_eqns.append(eqn)
            continue
        rule = partial_eval_rules.get(eqn.primitive)
        if rule is None:
            staged_eqns.append(eqn)
            unknown_vars.update(eqn.outvars)
            continue
        k_eqns, s_eqns, out_unknowns = rule(eqn, eqn_unknowns)
        known_eqns.extend(k_eqns)
        staged_eqns.extend(s_eqns)
        unknown_vars.update(v for v, uk in zip(eqn.outvars, out_unknowns) if uk)

    force = ad_jvp._per_output(instantiate, len(jaxpr.outvars))
    out_unknowns = [
        (isinstance(v, Var) and v in unknown_vars) or bool(f) for v, f in zip(jaxpr.outvars, force)
    ]
    staged_outs = [v for v, uk in zip(jaxpr.outvars, out_unknowns) if uk]
    staged_body = passes.dce(Jaxpr([], [], staged_outs, staged_eqns))

    # Residuals: the known Vars the staged side reads (constants stay closed over).
    constvars = set(jaxpr.constvars)
    reads = [a for e in staged_body.eqns for a in e.invars] + list(staged_outs)
    residuals: list[Var] = []
    staged_constvars: list[Var] = []
    seen: set = set()
    for atom in reads:
        if not isinstance(atom, Var) or atom in unknown_vars or atom in seen:
            continue
        seen.add(atom)
        (staged_constvars if atom in constvars else residuals).append(atom)

    known_outs = [v for v, uk in zip(jaxpr.outvars, out_unknowns) if not uk]
    known_invars = [v for v, uk in zip(jaxpr.invars, unknowns) if not uk]
    known = Jaxpr(jaxpr.constvars, known_invars, known_outs + residuals, known_eqns)
    known = passes.prune_consts(ClosedJaxpr(passes.dce(known), closed.consts))

    const_of = dict(zip(jaxpr.constvars, closed.consts))
    unknown_invars = [v for v, uk in zip(jaxpr.invars, unknowns) if uk]
    staged = Jaxpr(staged_constvars, residuals + unknown_invars, staged_outs, staged_body.eqns)
    staged = ClosedJaxpr(staged, [const_of[v] for v in staged_constvars])
    return known, staged, out_unknowns, len(residuals)


# ----------------------------------------------------------------------------
# jit: the call primitive's rules.


def _jit_jvp(primals, tangents, *, jaxpr, name, backend):
    nonzeros = [
        not isinstance(t, Zero) and ad_jvp.is_differentiable(a)
        for t, a in zip(tangents, jaxpr.in_avals)
    ]
    jvp_closed, out_nonzeros = jvp_jaxpr(jaxpr, nonzeros, instantiate=False)
    jvp_closed, lifted = convert_constvars_to_invars(passes.simplify(jvp_closed))
    dense = [t for t, nz in zip(tangents, nonzeros) if nz]
    outs = jit_p.bind(
        *lifted, *primals, *dense, jaxpr=jvp_closed, name=f"jvp({name})", backend=backend
    )
    n = len(jaxpr.out_avals)
    tangent_outs = iter(outs[n:])
    tangents_out = [
        next(tangent_outs) if nz else Zero(a) for a, nz in zip(jaxpr.out_avals, out_nonzeros)
    ]
    return outs[:n], tangents_out


def _jit_partial_eval(eqn: JaxprEqn, unknowns):
    params = eqn.params
    known, staged, out_unknowns, num_res = partial_eval_jaxpr(params["jaxpr"], unknowns, False)
    known_ins = [a for a, uk in zip(eqn.invars, unknowns) if not uk]
    unknown_ins = [a for a, uk in zip(eqn.invars, unknowns) if uk]
    known, residuals = _forward_input_residuals(known, num_res, known_ins)
    known_outs = [v for v, uk in zip(eqn.outvars, out_unknowns) if not uk]
    staged_outs = [v for v, uk in zip(eqn.outvars, out_unknowns) if uk]
    computed = [r for r in residuals if r not in known_ins]
    known_eqns = []
    if known_outs or computed:
        known_eqns.append(
            JaxprEqn(
                jit_p, tuple(known_ins), dict(params, jaxpr=known), tuple(known_outs + computed)
            )
        )
    staged_eqn = JaxprEqn(
        jit_p, tuple(residuals + unknown_ins), dict(params, jaxpr=staged), tuple(staged_outs)
    )
    return known_eqns, [staged_eqn] if staged_outs else [], out_unknowns


def _forward_input_residuals(known: ClosedJaxpr, num_res: int, known_ins) -> tuple:
    """Residuals that are inputs of the known jaxpr are read from the equation's own
    inputs instead of being returned by it. Returns the trimmed known jaxpr and one
    atom per residual: an input of the equation, or a new Var the known call defines."""
    body = known.jaxpr
    n_out = len(body.outvars) - num_res
    position = {v: i for i, v in enumerate(body.invars)}
    outvars = list(body.outvars[:n_out])
    residuals = []
    for var in body.outvars[n_out:]:
        if isinstance(var, Var) and var in position:
            residuals.append(known_ins[position[var]])
        else:
            outvars.append(var)
            residuals.append(Var(var.aval))
    trimmed = Jaxpr(body.constvars, body.invars, outvars, body.eqns)
    return ClosedJaxpr(trimmed, known.consts), residuals


def _jit_transpose(cts, *args, jaxpr, name, backend):
    linear = [is_undefined_primal(a) for a in args]
    ct_nonzeros = [not isinstance(ct, Zero) for ct in cts]
    transposed = transpose_jaxpr(jaxpr, linear, ct_nonzeros)
    transposed, lifted = convert_constvars_to_invars(transposed)
    outs = jit_p.bind(
        *lifted,
        *[a for a in args if not is_undefined_primal(a)],
        *[ct for ct in cts if not isinstance(ct, Zero)],
        jaxpr=transposed,
        name=f"transpose({name})",
        backend=backend,
    )
    results = iter(outs)
    return [next(results) if lin else None for lin in linear]


jvp_rules[jit_p] = _jit_jvp
partial_eval_rules[jit_p] = _jit_partial_eval
transpose_rules[jit_p] = _jit_transpose
