"""Type-checks a jaxpr: every variable is bound once before use and every
equation's output types are what its primitive's abstract evaluation says."""

from __future__ import annotations

from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal, Var, subjaxprs


class JaxprTypeError(TypeError):
    """A jaxpr is malformed (a bug in a transformation or a rule, not in user code)."""


def check_jaxpr(jaxpr: Jaxpr | ClosedJaxpr) -> None:
    if isinstance(jaxpr, ClosedJaxpr):
        _check_consts(jaxpr)
        jaxpr = jaxpr.jaxpr
    defined: set[Var] = set()

    def bind_var(v, where: str) -> None:
        if not isinstance(v, Var):
            raise JaxprTypeError(f"{where}: expected a Var, got {v!r}")
        if v in defined:
            raise JaxprTypeError(f"{where}: variable {v!r} is bound twice")
        defined.add(v)

    def read(a, where: str) -> None:
        if isinstance(a, Literal):
            return
        if a not in defined:
            raise JaxprTypeError(f"{where}: variable {a!r} is used before it is bound")

    for v in jaxpr.constvars:
        bind_var(v, "constvars")
    for v in jaxpr.invars:
        bind_var(v, "invars")
    for i, eqn in enumerate(jaxpr.eqns):
        where = f"equation {i} ({eqn.primitive.name})"
        for a in eqn.invars:
            read(a, where)
        for sub in subjaxprs(eqn.params):
            check_jaxpr(sub)
        expected = eqn.primitive.abstract_eval(*[a.aval for a in eqn.invars], **eqn.params)
        got = [v.aval for v in eqn.outvars]
        if list(expected) != got:
            raise JaxprTypeError(
                f"{where}: output types {[str(a) for a in got]} differ from the primitive's "
                f"abstract evaluation {[str(a) for a in expected]}"
            )
        for v in eqn.outvars:
            bind_var(v, where)
    for a in jaxpr.outvars:
        read(a, "outvars")


def _check_consts(closed: ClosedJaxpr) -> None:
    from plax.core import get_aval

    for var, val in zip(closed.jaxpr.constvars, closed.consts):
        aval = get_aval(val)
        if aval.shape != var.aval.shape or aval.dtype != var.aval.dtype:
            raise JaxprTypeError(f"const of type {aval} bound to constvar of type {var.aval}")
