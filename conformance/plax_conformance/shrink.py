"""The minimal failing program: shrink a jaxpr while the backend still gets it wrong.

Starting from a program whose result on the backend differs from the reference, the
shrinker tries smaller programs and keeps any that still fail:

* keep one output (and what it needs);
* end the program at an intermediate value (the first wrong value is often early);
* cut an equation out: its results become new inputs, fed with the reference's values,
  so everything upstream of it disappears.

Unused equations and inputs are dropped after each step. Nested ``jit`` equations are
inlined first so that their bodies can shrink too. Every candidate runs on the backend,
so the result is a program the backend really fails, with the inputs that show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from plax.interpreters.reference import apply
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var

__all__ = ["ShrinkResult", "shrink"]

MAX_ATTEMPTS = 150


@dataclass
class ShrinkResult:
    closed: ClosedJaxpr
    inputs: list
    original_equations: int
    message: str
    attempts: int

    @property
    def equations(self) -> int:
        return len(self.closed.jaxpr.eqns)

    def to_json(self) -> dict:
        return {
            "jaxpr": str(self.closed),
            "equations": self.equations,
            "original_equations": self.original_equations,
            "inputs": [{"shape": list(np.shape(x)), "dtype": np.asarray(x).dtype.name}
                       for x in self.inputs],
            "primitives": sorted({e.primitive.name for e in self.closed.jaxpr.eqns}),
            "message": self.message,
        }


# A check runs a candidate on the backend and on the reference; it returns the failure
# message, or None when the backend gets the candidate right.
Check = Callable[[ClosedJaxpr, list], "str | None"]


def shrink(closed: ClosedJaxpr, inputs: list, check: Check) -> ShrinkResult | None:
    """The smallest failing program found from ``closed`` (None if it does not fail)."""
    original = len(closed.jaxpr.eqns)
    jaxpr, values = _normalize(closed, list(inputs))
    message = check(ClosedJaxpr(jaxpr, []), values)
    if message is None:
        # Inlining made the failure disappear (it depends on the nesting): keep it whole.
        message = check(closed, list(inputs))
        if message is None:
            return None
        return ShrinkResult(closed, list(inputs), original, message, 2)
    attempts = 1
    improved = True
    while improved and attempts < MAX_ATTEMPTS:
        improved = False
        env = _reference_values(jaxpr, values)
        for candidate, cand_values in _candidates(jaxpr, values, env):
            if attempts >= MAX_ATTEMPTS:
                break
            attempts += 1
            try:
                result = check(ClosedJaxpr(candidate, []), cand_values)
            except Exception:  # noqa: BLE001 -- a candidate the reference cannot run
                result = None
            if result is not None:
                jaxpr, values, message = candidate, cand_values, result
                improved = True
                break
    return ShrinkResult(ClosedJaxpr(jaxpr, []), values, original, message, attempts)


def _size(jaxpr: Jaxpr) -> tuple:
    return (len(jaxpr.eqns), len(jaxpr.invars), len(jaxpr.outvars))


def _candidates(jaxpr: Jaxpr, values: list, env: dict):
    """Smaller programs, smallest first."""
    found = []
    outs = [v for v in jaxpr.outvars if isinstance(v, Var)]
    # End the program at any single value it computes (its outputs included).
    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            found.append(_prune(Jaxpr((), jaxpr.invars, (var,), jaxpr.eqns), values))
    # Cut one equation: its results become inputs holding the reference's values.
    for index, eqn in enumerate(jaxpr.eqns):
        if all(v in outs for v in eqn.outvars):
            continue  # cutting the equation that computes the output leaves nothing to run
        fresh = {v: Var(v.aval) for v in eqn.outvars}
        rest = [_substitute(e, fresh) for i, e in enumerate(jaxpr.eqns) if i != index]
        outvars = tuple(fresh.get(v, v) if isinstance(v, Var) else v for v in jaxpr.outvars)
        invars = tuple(jaxpr.invars) + tuple(fresh.values())
        cut_values = list(values) + [env[v] for v in eqn.outvars]
        found.append(_prune(Jaxpr((), invars, outvars, rest), cut_values))
    current = _size(jaxpr)
    smaller = [(j, v) for j, v in found if _size(j) < current and j.eqns]
    smaller.sort(key=lambda pair: _size(pair[0]))
    return smaller


def _substitute(eqn: JaxprEqn, mapping: dict) -> JaxprEqn:
    invars = tuple(mapping.get(a, a) if isinstance(a, Var) else a for a in eqn.invars)
    return eqn.replace(invars=invars) if invars != eqn.invars else eqn


def _prune(jaxpr: Jaxpr, values: list) -> tuple[Jaxpr, list]:
    """Drop equations nothing needs, then inputs nothing reads."""
    live = {v for v in jaxpr.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(a for a in eqn.invars if isinstance(a, Var))
    kept.reverse()
    pairs = [(v, x) for v, x in zip(jaxpr.invars, values) if v in live]
    new = Jaxpr((), [v for v, _ in pairs], jaxpr.outvars, kept)
    return new, [x for _, x in pairs]


def _reference_values(jaxpr: Jaxpr, values: list) -> dict:
    env = dict(zip(jaxpr.invars, values))

    def read(atom):
        return atom.val if isinstance(atom, Literal) else env[atom]

    for eqn in jaxpr.eqns:
        outs = apply(eqn.primitive, [read(a) for a in eqn.invars], eqn.params,
                     [v.aval for v in eqn.outvars])
        env.update(zip(eqn.outvars, outs))
    return env


def _normalize(closed: ClosedJaxpr, values: list) -> tuple[Jaxpr, list]:
    """Consts become inputs and nested ``jit`` equations are inlined."""
    jaxpr = closed.jaxpr
    invars = list(jaxpr.constvars) + list(jaxpr.invars)
    values = [np.asarray(c) for c in closed.consts] + values
    eqns: list[JaxprEqn] = []
    subst: dict = {}
    _inline(jaxpr.eqns, subst, eqns, invars, values)
    outvars = tuple(subst.get(v, v) if isinstance(v, Var) else v for v in jaxpr.outvars)
    return Jaxpr((), invars, outvars, eqns), values


def _inline(source, subst: dict, eqns: list, invars: list, values: list) -> None:
    for eqn in source:
        eqn = _substitute(eqn, subst)
        inner = eqn.params.get("jaxpr") if eqn.primitive.name == "jit" else None
        if not isinstance(inner, ClosedJaxpr):
            eqns.append(eqn)
            continue
        body = inner.jaxpr
        for var, const in zip(body.constvars, inner.consts):
            fresh = Var(var.aval)
            invars.append(fresh)
            values.append(np.asarray(const))
            subst[var] = fresh
        local = dict(subst)
        local.update(zip(body.invars, eqn.invars))
        renamed = []
        for inner_eqn in body.eqns:
            fresh_outs = tuple(Var(v.aval) for v in inner_eqn.outvars)
            local.update(zip(inner_eqn.outvars, fresh_outs))
            renamed.append(inner_eqn.replace(outvars=fresh_outs))
            # Inputs are substituted when the renamed equation is inlined below.
            renamed[-1] = _substitute(renamed[-1], local)
        _inline(renamed, subst, eqns, invars, values)
        for outer, inner_out in zip(eqn.outvars, body.outvars):
            subst[outer] = local.get(inner_out, inner_out) if isinstance(inner_out, Var) \
                else inner_out
