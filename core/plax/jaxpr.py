"""The IR: jaxprs are typed SSA programs of primitive applications.

A ``Jaxpr`` has constvars, invars, a list of equations and outvars. Each
equation applies one primitive, with hashable keyword params (sub-jaxprs of
control flow are params too), to ``Var``s and ``Literal``s. A ``ClosedJaxpr``
pairs a jaxpr with the values of its constvars.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from plax.abstract import ShapedArray


class Var:
    """A jaxpr variable. Identity is the variable; names are chosen when printing."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"Var<{self.aval.str_short()}>"


class Literal:
    """A scalar constant written inline in an equation (``2.0:f32[]``)."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = np.asarray(val, dtype=aval.dtype)
        self.aval = aval

    def key(self):
        """Equality key: same value bits, dtype and weak type."""
        return (self.val.tobytes(), self.aval)

    def __repr__(self) -> str:
        return f"Literal({self.val.item()!r}:{self.aval.str_short()})"


Atom = Var | Literal


class JaxprEqn(NamedTuple):
    primitive: object  # plax.core.Primitive
    invars: tuple
    params: dict
    outvars: tuple

    def replace(self, **kwargs) -> "JaxprEqn":
        return self._replace(**kwargs)


class Jaxpr:
    __slots__ = ("constvars", "invars", "outvars", "eqns")

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars = tuple(constvars)
        self.invars = tuple(invars)
        self.outvars = tuple(outvars)
        self.eqns = tuple(eqns)

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.invars]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outvars]

    def __str__(self) -> str:
        from plax.jaxpr_printer import pp_jaxpr

        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr together with the values of its constvars."""

    __slots__ = ("jaxpr", "consts", "__weakref__")

    def __init__(self, jaxpr: Jaxpr, consts):
        consts = list(consts)
        if len(consts) != len(jaxpr.constvars):
            raise ValueError(
                f"ClosedJaxpr got {len(consts)} consts for {len(jaxpr.constvars)} constvars"
            )
        self.jaxpr = jaxpr
        self.consts = consts

    @property
    def in_avals(self) -> list[ShapedArray]:
        return self.jaxpr.in_avals

    @property
    def out_avals(self) -> list[ShapedArray]:
        return self.jaxpr.out_avals

    @property
    def eqns(self):
        return self.jaxpr.eqns

    def __str__(self) -> str:
        from plax.jaxpr_printer import pp_jaxpr

        return pp_jaxpr(self.jaxpr, self.consts)

    __repr__ = __str__


def subjaxprs(params: dict):
    """The sub-jaxprs among an equation's params (control flow, calls)."""
    for value in params.values():
        if isinstance(value, (Jaxpr, ClosedJaxpr)):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, (Jaxpr, ClosedJaxpr)):
                    yield item
