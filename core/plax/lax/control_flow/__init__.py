"""Structured control flow: ``cond``, ``switch``, ``while_loop``, ``fori_loop``,
``scan``, ``map`` and ``associative_scan``.

The primitives (``cond_p``, ``while_p``, ``scan_p``) hold their branches and
loop bodies as closed jaxprs in their params. Each module holds one primitive's
whole story: abstract evaluation, reference implementation, JVP, partial
evaluation, transpose and batching rules, and the public wrappers.
"""

from plax.lax.control_flow.associative_scan import *
from plax.lax.control_flow.conditionals import *
from plax.lax.control_flow.conditionals import cond_p  # noqa: F401
from plax.lax.control_flow.loops import *
from plax.lax.control_flow.loops import while_p  # noqa: F401
from plax.lax.control_flow.scan import *
from plax.lax.control_flow.scan import scan_p  # noqa: F401

__all__ = [
    "associative_scan",
    "cond",
    "fori_loop",
    "map",
    "scan",
    "switch",
    "while_loop",
]
