"""Pytrees: nested containers whose leaves are arrays.

Tuples, lists, dicts (sorted by key), namedtuples, None and registered classes
are containers; everything else is a leaf. ``PyTreeDef`` is hashable so that
it can be part of jit's cache key.
"""

from __future__ import annotations

import collections
from typing import Any, Callable

_registry: dict[type, tuple[Callable, Callable]] = {}


class PyTreeDef:
    """The structure of a pytree: node kinds and aux data, without the leaves."""

    __slots__ = ("kind", "aux", "children", "num_leaves", "_hash")

    def __init__(self, kind, aux, children: tuple, num_leaves: int):
        self.kind = kind  # the node type, or None for a leaf
        self.aux = aux  # hashable data needed to rebuild the node
        self.children = children
        self.num_leaves = num_leaves
        # Computed once: treedefs are part of jit's cache key on every call.
        self._hash = hash((kind, aux, children))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, PyTreeDef)
            and self._hash == other._hash
            and self.kind == other.kind
            and self.aux == other.aux
            and self.children == other.children
        )

    @property
    def num_nodes(self) -> int:
        return 1 + sum(c.num_nodes for c in self.children)

    def __repr__(self) -> str:
        return f"PyTreeDef({_describe(self)})"


_LEAF = PyTreeDef(None, None, (), 1)


def _describe(t: PyTreeDef) -> str:
    if t.kind is None:
        return "*"
    inner = ", ".join(_describe(c) for c in t.children)
    if t.kind is tuple:
        return f"({inner}{',' if len(t.children) == 1 else ''})"
    if t.kind is list:
        return f"[{inner}]"
    if t.kind is dict:
        return "{" + ", ".join(f"{k!r}: {_describe(c)}" for k, c in zip(t.aux, t.children)) + "}"
    if t.kind is type(None):
        return "None"
    return f"CustomNode({t.kind.__name__}[{t.aux!r}], [{inner}])"


def register_pytree_node(nodetype: type, flatten_func: Callable, unflatten_func: Callable):
    """Register ``nodetype``: ``flatten_func(x) -> (children, aux)``,
    ``unflatten_func(aux, children) -> x``."""
    _registry[nodetype] = (flatten_func, unflatten_func)


def register_pytree_node_class(cls):
    """Class decorator: the class defines ``tree_flatten`` and ``tree_unflatten``."""
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _children(x):
    """(kind, aux, children) for a container, or None for a leaf."""
    kind = type(x)
    if kind in _registry:
        children, aux = _registry[kind][0](x)
        return kind, aux, list(children)
    if x is None:
        return type(None), None, []
    if kind is tuple or kind is list:
        return kind, None, list(x)
    if isinstance(x, dict):
        keys = tuple(sorted(x.keys()))
        aux = (keys, kind) if kind is not dict else keys
        return dict, aux, [x[k] for k in keys]
    if _is_namedtuple(x):
        return kind, None, list(x)
    return None


def tree_flatten(tree, is_leaf: Callable | None = None):
    leaves: list = []
    treedef = _flatten(tree, is_leaf, leaves)
    return leaves, treedef


def _flatten(x, is_leaf, leaves) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    node = _children(x)
    if node is None:
        leaves.append(x)
        return _LEAF
    kind, aux, children = node
    subtrees = tuple(_flatten(c, is_leaf, leaves) for c in children)
    return PyTreeDef(kind, aux, subtrees, sum(s.num_leaves for s in subtrees))


def tree_unflatten(treedef: PyTreeDef, leaves):
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten got {len(leaves)} leaves for a tree of {treedef.num_leaves}: "
            f"{treedef}"
        )
    it = iter(leaves)
    return _build(treedef, it)


def _build(t: PyTreeDef, it):
    if t.kind is None:
        return next(it)
    children = [_build(c, it) for c in t.children]
    if t.kind in _registry:
        return _registry[t.kind][1](t.aux, children)
    if t.kind is type(None):
        return None
    if t.kind is tuple or t.kind is list:
        return t.kind(children)
    if t.kind is dict:
        if isinstance(t.aux, tuple) and len(t.aux) == 2 and isinstance(t.aux[1], type):
            keys, cls = t.aux
            if cls is collections.defaultdict:
                return cls(None, zip(keys, children))
            return cls(zip(keys, children))
        return dict(zip(t.aux, children))
    return t.kind(*children)  # namedtuple


def tree_leaves(tree, is_leaf=None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> PyTreeDef:
    return tree_flatten(tree, is_leaf)[1]


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.kind is None


def tree_map(f: Callable, tree, *rest, is_leaf=None):
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            raise ValueError(f"tree_map: tree structures differ: {treedef} vs {r_def}")
        others.append(r_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def tree_reduce(f: Callable, tree, initializer=None, is_leaf=None):
    import functools

    leaves = tree_leaves(tree, is_leaf)
    if initializer is None:
        return functools.reduce(f, leaves)
    return functools.reduce(f, leaves, initializer)


def tree_all(tree) -> bool:
    return all(tree_leaves(tree))


def tree_transpose(outer: PyTreeDef, inner: PyTreeDef, tree):
    flat = tree_leaves(tree)
    n_inner = inner.num_leaves
    groups = [flat[i * n_inner : (i + 1) * n_inner] for i in range(outer.num_leaves)]
    columns = [tree_unflatten(outer, [g[j] for g in groups]) for j in range(n_inner)]
    return tree_unflatten(inner, columns)


class Partial:
    """``functools.partial`` that is a pytree (its bound arguments are leaves)."""

    def __init__(self, func, *args, **kwargs):
        self.func = func
        self.args = args
        self.keywords = kwargs

    def __call__(self, *args, **kwargs):
        return self.func(*self.args, *args, **{**self.keywords, **kwargs})


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, children: Partial(func, *children[0], **children[1]),
)
