"""Forward-mode differentiation rules (filled by the lax modules).

``jvp_rules[p](primals, tangents, **params) -> (primal_outs, tangent_outs)``.
The JVP trace that uses this table lands with the transformations issue.
"""

from typing import Callable

jvp_rules: dict[object, Callable] = {}
