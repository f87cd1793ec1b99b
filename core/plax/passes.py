"""Core passes over jaxprs, run before a program reaches a backend.

* ``dce``: drops equations whose results are never used.
* ``cse``: reuses the result of an identical earlier equation.
Both keep the jaxpr's signature (inputs are never removed).
"""

from __future__ import annotations

from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal, Var


def has_effects(primitive) -> bool:
    return getattr(primitive, "has_effects", False)


def dce(jaxpr: Jaxpr) -> Jaxpr:
    live: set[Var] = {v for v in jaxpr.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if has_effects(eqn.primitive) or any(v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(v for v in eqn.invars if isinstance(v, Var))
    kept.reverse()
    if len(kept) == len(jaxpr.eqns):
        return jaxpr
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, kept)


def _atom_key(atom):
    return ("lit", atom.key()) if isinstance(atom, Literal) else ("var", id(atom))


def cse(jaxpr: Jaxpr) -> Jaxpr:
    replace: dict[Var, Var] = {}
    seen: dict = {}
    eqns = []
    changed = False
    for eqn in jaxpr.eqns:
        invars = tuple(replace.get(v, v) if isinstance(v, Var) else v for v in eqn.invars)
        if invars != eqn.invars:
            eqn = eqn.replace(invars=invars)
            changed = True
        key = None
        if not has_effects(eqn.primitive):
            try:
                key = (eqn.primitive, tuple(sorted(eqn.params.items())),
                       tuple(_atom_key(a) for a in invars))
                hash(key)
            except TypeError:
                key = None
        previous = seen.get(key) if key is not None else None
        if previous is not None:
            for old, new in zip(eqn.outvars, previous.outvars):
                replace[old] = new
            changed = True
            continue
        if key is not None:
            seen[key] = eqn
        eqns.append(eqn)
    if not changed:
        return jaxpr
    outvars = [replace.get(v, v) if isinstance(v, Var) else v for v in jaxpr.outvars]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, eqns)


def simplify(closed: ClosedJaxpr) -> ClosedJaxpr:
    jaxpr = dce(cse(closed.jaxpr))
    if jaxpr is closed.jaxpr:
        return closed
    return prune_consts(ClosedJaxpr(jaxpr, closed.consts))


def prune_consts(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Drop constvars no equation or output reads."""
    jaxpr = closed.jaxpr
    used = {v for e in jaxpr.eqns for v in e.invars if isinstance(v, Var)}
    used.update(v for v in jaxpr.outvars if isinstance(v, Var))
    pairs = [(v, c) for v, c in zip(jaxpr.constvars, closed.consts) if v in used]
    if len(pairs) == len(jaxpr.constvars):
        return closed
    new = Jaxpr([v for v, _ in pairs], jaxpr.invars, jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(new, [c for _, c in pairs])
