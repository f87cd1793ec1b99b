"""Batching rules for vmap (filled by the lax modules).

``batch_rules[p](args, batch_dims, **params) -> (outs, out_batch_dims)``.
"""

from typing import Callable

batch_rules: dict[object, Callable] = {}
