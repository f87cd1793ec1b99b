"""``stop_gradient``: the identity whose derivative is zero.

It is a primitive (not a Python trick) so that it survives staging: in
``grad(jit(f))`` the ``stop_gradient`` equation inside ``f``'s jaxpr still
blocks the derivative when the jaxpr is differentiated later. Backends
evaluate it as the identity.
"""

from __future__ import annotations

from plax import core, dtypes
from plax.interpreters import batching
from plax.interpreters.jvp import jvp_rules, zero_jvp
from plax.interpreters.reference import impl_rules
from plax.tree_util import tree_map

__all__ = ["stop_gradient"]


# -- stop_gradient -------------------------------------------------------------------
stop_gradient_p = core.Primitive("stop_gradient")
core.abstract_eval_rules[stop_gradient_p] = lambda x: [x]
impl_rules[stop_gradient_p] = lambda x: [x]
jvp_rules[stop_gradient_p] = zero_jvp(stop_gradient_p)
batching.defvectorized(stop_gradient_p)


def stop_gradient(x):
    """``x`` unchanged, but with zero derivative (a pytree of arrays works leaf by leaf).
    Integer and bool leaves, which have no derivative anyway, are returned as they are."""

    def stop(leaf):
        if dtypes.is_float(core.get_aval(leaf).dtype):
            return stop_gradient_p.bind(leaf)
        return leaf

    return tree_map(stop, x)
