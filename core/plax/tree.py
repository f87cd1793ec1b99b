"""``plax.tree``: the short names for pytree functions (as ``jax.tree``)."""

from plax.tree_util import (
    tree_all as all,
    tree_flatten as flatten,
    tree_leaves as leaves,
    tree_map as map,
    tree_reduce as reduce,
    tree_structure as structure,
    tree_transpose as transpose,
    tree_unflatten as unflatten,
)

__all__ = ["all", "flatten", "leaves", "map", "reduce", "structure", "transpose", "unflatten"]
