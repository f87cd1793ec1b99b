"""Prints jaxprs in JAX's textual format.

    { lambda a:f32[3]; b:f32[3]. let
        c:f32[3] = add b a
        d:f32[] = reduce_sum[axes=(0,)] c
      in (d,) }
"""

from __future__ import annotations

import numpy as np

from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal, Var

_WIDTH = 80


def var_name(n: int) -> str:
    """a, b, ..., z, ba, bb, ... (JAX's alphabetic numbering)."""
    s = ""
    while not s or n:
        n, i = divmod(n, 26)
        s = chr(97 + i) + s
    return s


class _Names:
    def __init__(self):
        self.names: dict[Var, str] = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            return f"{_literal_text(v.val)}:{v.aval.str_short()}"
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = var_name(len(self.names))
        return name

    def binder(self, v: Var) -> str:
        return f"{self(v)}:{v.aval.str_short()}"

    def result(self, v: Var, used: set) -> str:
        """An equation's output; as in JAX, one that nothing reads is ``_`` (no name)."""
        return self.binder(v) if v in used else f"_:{v.aval.str_short()}"


def _literal_text(val: np.ndarray) -> str:
    return str(val[()]) if val.ndim == 0 else np.array2string(val, separator=", ")


def _param_text(value, names: _Names, indent: int) -> str:
    if isinstance(value, ClosedJaxpr):
        return _jaxpr_text(value.jaxpr, names, indent)
    if isinstance(value, Jaxpr):
        return _jaxpr_text(value, names, indent)
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, tuple) and any(isinstance(v, (Jaxpr, ClosedJaxpr)) for v in value):
        pad = " " * (indent + 2)
        items = "\n".join(pad + _param_text(v, names, indent + 2) for v in value)
        return "(\n" + items + "\n" + " " * indent + ")"
    if isinstance(value, tuple):
        parts = [_param_text(v, names, indent) for v in value]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    return str(value)


def _has_subjaxpr(value) -> bool:
    if isinstance(value, (Jaxpr, ClosedJaxpr)):
        return True
    return isinstance(value, tuple) and any(isinstance(v, (Jaxpr, ClosedJaxpr)) for v in value)


def _eqn_text(eqn, names: _Names, indent: int, used: set) -> str:
    # Operands are named before results, so names follow definition order.
    operands = " ".join(names(v) for v in eqn.invars)
    results = " ".join(names.result(v, used) for v in eqn.outvars) or "_"
    params = sorted(eqn.params.items())
    head = f"{results} = {eqn.primitive.name}"
    if any(_has_subjaxpr(v) for _, v in params):
        pad = " " * (indent + 2)
        lines = [f"{pad}{k}={_param_text(v, names, indent + 2)}" for k, v in params]
        return f"{head}[\n" + "\n".join(lines) + "\n" + " " * indent + "] " + operands
    if params:
        head += "[" + " ".join(f"{k}={_param_text(v, names, indent)}" for k, v in params) + "]"
    return f"{head} {operands}".rstrip()


def _used_vars(jaxpr: Jaxpr) -> set:
    """The variables an equation or the outputs of ``jaxpr`` read."""
    atoms = [a for e in jaxpr.eqns for a in e.invars] + list(jaxpr.outvars)
    return {a for a in atoms if isinstance(a, Var)}


def _jaxpr_text(jaxpr: Jaxpr, names: _Names, indent: int) -> str:
    consts = " ".join(names.binder(v) for v in jaxpr.constvars)
    ins = " ".join(names.binder(v) for v in jaxpr.invars)
    used = _used_vars(jaxpr)
    eqn_texts = [_eqn_text(e, names, indent + 4, used) for e in jaxpr.eqns]
    outs = ", ".join(names(v) for v in jaxpr.outvars)
    outs = f"({outs},)" if len(jaxpr.outvars) == 1 else f"({outs})"
    head = f"{{ lambda {consts}; {ins}. let"
    if len(eqn_texts) <= 1 and not any("\n" in t for t in eqn_texts):
        body = eqn_texts[0] if eqn_texts else ""
        one_line = f"{head} {body} in {outs} }}"
        if indent + len(one_line) <= _WIDTH:
            return one_line
    pad = " " * (indent + 4)
    lines = [head] + [pad + t for t in eqn_texts] + [" " * (indent + 2) + f"in {outs} }}"]
    return "\n".join(lines)


def pp_jaxpr(jaxpr: Jaxpr, consts=None) -> str:
    return _jaxpr_text(jaxpr, _Names(), 0)
