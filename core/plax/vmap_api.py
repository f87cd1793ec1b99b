"""``vmap``: vectorise a function over a batch axis of its arguments.

``vmap(f, in_axes, out_axes)(*args)`` runs ``f`` on one example at a time
without a Python loop: the arguments' mapped axes become the batch axis of a
``BatchTrace`` (``plax.interpreters.batching``) and every primitive applies its
batching rule. ``in_axes`` and ``out_axes`` are ints (negative counts from the
end), None (not mapped) or pytrees of them that are tree prefixes of the
arguments (a tuple with one entry per positional argument) and of the output.
Keyword arguments are always mapped along axis 0, as in JAX.
"""

from __future__ import annotations

import collections
import functools
import inspect
from typing import Callable

from plax import core, passes
from plax.api import jit_p
from plax.configuration import config, x64_enabled
from plax.interpreters import batching
from plax.interpreters.batching import AxisData, not_mapped
from plax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["vmap"]


# ----------------------------------------------------------------------------
# Axis specifications.


def _is_axis_leaf(x) -> bool:
    return x is None or type(x) is int


def _check_spec(spec, what: str) -> None:
    leaves, _ = tree_flatten(spec, is_leaf=lambda x: x is None)
    bad = [leaf for leaf in leaves if not _is_axis_leaf(leaf)]
    if bad:
        raise TypeError(
            f"vmap {what} must be an int, None, or (nested) container with those types as "
            f"leaves, but got {spec!r} (the entry {bad[0]!r} is neither)."
        )


def _keystr(path) -> str:
    return "".join(path)


def _node_children(value):
    """The immediate children of a container and the container's treedef node."""
    children, node = tree_flatten(value, is_leaf=lambda x: x is not value)
    return children, node


def _dict_keys(node: PyTreeDef) -> tuple:
    # A dict subclass keeps its class next to the keys: aux is (keys, cls).
    aux = node.aux
    if isinstance(aux, tuple) and len(aux) == 2 and isinstance(aux[1], type):
        return aux[0]
    return aux


def _child_keys(node: PyTreeDef) -> list[str]:
    """How each child is reached, as in a key path: ``[0]``, ``['a']``, ``.field``."""
    if node.kind is dict:
        return [f"[{k!r}]" for k in _dict_keys(node)]
    fields = getattr(node.kind, "_fields", None)
    if fields is not None:
        return [f".{f}" for f in fields]
    return [f"[{i}]" for i in range(len(node.children))]


def _describe_node(node: PyTreeDef) -> str:
    if node.kind is None:
        return "a leaf (an array)"
    if node.kind is type(None):
        return "None"
    if node.kind is dict:
        keys = [k[1:-1] for k in _child_keys(node)]
        return f"a dict with keys [{', '.join(keys)}]"
    name = node.kind.__name__
    return f"a {name} of length {len(node.children)}"


class _PrefixError(ValueError):
    pass


def _broadcast_prefix(prefix, full: PyTreeDef, path: list, out: list) -> None:
    """Append to ``out`` one axis per leaf of ``full``, read from the tree prefix ``prefix``."""
    if _is_axis_leaf(prefix):
        out.extend([prefix] * full.num_leaves)
        return
    children, node = _node_children(prefix)
    keys = _child_keys(node)
    if full.kind is None or full.kind != node.kind or _child_keys(full) != keys:
        where = _keystr(path)
        raise _PrefixError(
            f"at {where}, the specification has {_describe_node(node)} but the value has "
            f"{_describe_node(full)}"
        )
    for child, sub, key in zip(children, full.children, keys):
        _broadcast_prefix(child, sub, path + [key], out)


class _AvalRepr:
    """A leaf printed as its type, for error messages that show a whole tree."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _type_str(x) -> str:
    try:
        return core.get_aval(x).str_short()
    except TypeError:
        return type(x).__name__


def _flatten_in_axes(in_axes, args_tree: PyTreeDef, arg_leaves) -> list:
    out: list = []
    try:
        _broadcast_prefix(in_axes, args_tree, ["in_axes"], out)
    except _PrefixError as err:
        shown = tree_unflatten(args_tree, [_AvalRepr(_type_str(x)) for x in arg_leaves])
        raise ValueError(
            "vmap in_axes specification must be a tree prefix of the corresponding value: "
            f"{err}.\n  in_axes:   {in_axes!r}\n  arguments: {shown!r}"
        ) from None
    return out


# ----------------------------------------------------------------------------
# Argument names and the mapped axis size.


def _leaf_paths(treedef: PyTreeDef, prefix: str = "") -> list[str]:
    if treedef.kind is None:
        return [prefix]
    paths = []
    for key, child in zip(_child_keys(treedef), treedef.children):
        paths.extend(_leaf_paths(child, prefix + key))
    return paths


def _argument_names(fun, in_tree: PyTreeDef) -> list[str]:
    """A readable name for each flat argument: ``argument x['a']`` or ``kwargs['k']``."""
    args_tree, kwargs_tree = in_tree.children
    try:
        params = list(inspect.signature(fun).parameters.values())
        positional = [p.name for p in params
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        positional = []
    names = []
    for i, child in enumerate(args_tree.children):
        head = f"argument {positional[i]}" if i < len(positional) else f"args[{i}]"
        names.extend(head + p for p in _leaf_paths(child))
    names.extend("kwargs" + p for p in _leaf_paths(kwargs_tree))
    return names


def _canonical_in_axes(leaves, axes, names) -> list:
    out = []
    for x, axis, name in zip(leaves, axes, names):
        if axis is None:
            out.append(not_mapped)
            continue
        try:
            aval = core.get_aval(x)
        except TypeError:
            raise TypeError(
                f"vmap was asked to map {name} along axis {axis}, but it is a "
                f"{type(x).__name__}, not an array; give it in_axes None to pass it unmapped"
            ) from None
        rank = aval.ndim
        if not -rank <= axis < rank:
            need = axis + 1 if axis >= 0 else -axis
            raise ValueError(
                f"vmap was requested to map {name} along axis {axis}, which implies that its "
                f"rank should be at least {need}, but {name} has rank {rank} (its shape is "
                f"{aval.shape})"
            )
        out.append(axis % rank)
    return out


def _mapped_size(leaves, dims, names, axis_size, args, kwargs) -> int:
    sizes = [None if d is not_mapped else core.get_aval(x).shape[d]
             for x, d in zip(leaves, dims)]
    distinct = {s for s in sizes if s is not None}
    if axis_size is not None:
        distinct.add(axis_size)
    if len(distinct) == 1:
        return distinct.pop()
    if not distinct:
        if not leaves:
            raise ValueError(
                "vmap wrapped function must be passed at least one argument containing an "
                f"array or axis_size must be specified, got empty *args={args} and "
                f"**kwargs={kwargs}"
            )
        raise ValueError(
            "vmap must have at least one non-None value in in_axes or axis_size must be "
            "specified"
        )
    lines = ["vmap got inconsistent sizes for array axes to be mapped:"]
    if axis_size is not None:
        lines.append(f"  * the `axis_size` argument was {axis_size};")
    counts = collections.Counter(s for s in sizes if s is not None)
    for size, count in counts.most_common():
        first = sizes.index(size)
        example = f"axis {dims[first]} of {names[first]} of type {_type_str(leaves[first])}"
        if count == 1:
            lines.append(f"  * one axis had size {size}: {example};")
        else:
            lines.append(f"  * {count} axes had size {size}, e.g. {example};")
    each = ", ".join(
        f"{name}: {size}" for name, size in zip(names, sizes) if size is not None
    )
    lines.append(f"  (mapped sizes by argument: {each})")
    raise ValueError("\n".join(lines))


def _canonical_out_axes(axes, avals, paths) -> list:
    out = []
    for axis, aval, path in zip(axes, avals, paths):
        if axis is None:
            out.append(not_mapped)
            continue
        rank = aval.ndim + 1
        if not -rank <= axis < rank:
            raise ValueError(
                f"vmap out_axes{path}: axis {axis} is out of range for an output of rank "
                f"{aval.ndim} per example (rank {rank} with the mapped axis; valid values "
                f"are in [{-rank}, {rank}))"
            )
        out.append(axis % rank)
    return out


# ----------------------------------------------------------------------------
# vmap.


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_name=None, axis_size: int | None = None):
    """Vectorise ``fun`` over an axis of its arguments.

    ``in_axes``: an int, None, or a tuple with one entry per positional argument,
    each an int, None or a pytree prefix of that argument (dicts for dict
    arguments). Negative axes count from the end. ``out_axes``: likewise for the
    output. ``axis_size``: the batch size, required when no argument is mapped.
    ``axis_name`` is recorded; collectives over it are not supported yet.
    """
    if not callable(fun):
        raise TypeError(f"vmap expects a callable, got {fun!r}")
    if isinstance(in_axes, list):
        # As in JAX: a list at the top means the same as a tuple of positional entries.
        in_axes = tuple(in_axes)
    if not (in_axes is None or type(in_axes) in (int, tuple)):
        raise TypeError(
            "vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
            f"positional arguments passed to the function, but got {in_axes!r}."
        )
    _check_spec(in_axes, "in_axes")
    _check_spec(out_axes, "out_axes")
    if axis_size is not None and (type(axis_size) is not int or axis_size < 0):
        raise TypeError(f"vmap axis_size must be a non-negative int, got {axis_size!r}")

    @functools.wraps(fun)
    def vmap_f(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                "vmap in_axes must be an int, None, or a tuple of entries corresponding to "
                "the positional arguments passed to the function, but got "
                f"len(in_axes)={len(in_axes)}, len(args)={len(args)} "
                f"(in_axes={in_axes!r})"
            )
        leaves, in_tree = tree_flatten((args, kwargs))
        args_tree, kwargs_tree = in_tree.children
        n_args = args_tree.num_leaves
        # Keyword arguments are always mapped along axis 0, as in JAX.
        axes = _flatten_in_axes(in_axes, args_tree, leaves[:n_args])
        axes += [0] * kwargs_tree.num_leaves
        names = _argument_names(fun, in_tree)
        dims = _canonical_in_axes(leaves, axes, names)
        size = _mapped_size(leaves, dims, names, axis_size, args, kwargs)
        out_tree_box = []

        def flat_fun(*flat_args):
            call_args, call_kwargs = tree_unflatten(in_tree, flat_args)
            out = fun(*call_args, **call_kwargs)
            out_leaves, out_tree = tree_flatten(out)
            out_tree_box.append(out_tree)
            return out_leaves

        def out_dims(avals):
            out_tree = out_tree_box[0]
            flat = _flatten_out_axes(out_axes, out_tree, avals)
            return _canonical_out_axes(flat, avals, _leaf_paths(out_tree))

        try:
            outs = batching.batch_flat(flat_fun, leaves, dims, AxisData(size, axis_name),
                                       out_dims)
        except batching.OutAxisError as err:
            path = _leaf_paths(out_tree_box[0])[err.index]
            raise ValueError(
                f"at vmap out_axes{path}, got axis spec None but output was batched on axis "
                f"{err.src}: an output mapped over the batch cannot be returned unmapped"
            ) from None
        return tree_unflatten(out_tree_box[0], outs)

    vmap_f.axis_name = axis_name
    return vmap_f


def _flatten_out_axes(out_axes, out_tree: PyTreeDef, avals) -> list:
    out: list = []
    try:
        _broadcast_prefix(out_axes, out_tree, ["out_axes"], out)
    except _PrefixError as err:
        shown = tree_unflatten(out_tree, [_AvalRepr(a.str_short()) for a in avals])
        raise ValueError(
            "vmap out_axes specification must be a tree prefix of the corresponding value: "
            f"{err}.\n  out_axes: {out_axes!r}\n  output:   {shown!r}"
        ) from None
    return out


# ----------------------------------------------------------------------------
# jit inside vmap: batch the jitted jaxpr into a new jit equation.

_batched_jaxprs: dict = {}


def _jit_batch_rule(args, dims, *, jaxpr, name, backend):
    size = batching.axis_size_of(args, dims)
    key = (id(jaxpr), size, tuple(dims), x64_enabled())
    cached = _batched_jaxprs.get(key)
    if cached is not None and cached[0] is jaxpr:
        new_jaxpr, out_dims = cached[1], cached[2]
    else:
        new_jaxpr, out_dims = batching.batch_jaxpr_axes(jaxpr, size, dims)
        new_jaxpr = passes.simplify(new_jaxpr)
        if config.read("enable_checks"):
            from plax.jaxpr_check import check_jaxpr

            check_jaxpr(new_jaxpr)
        _remember(key, (jaxpr, new_jaxpr, out_dims))
    outs = jit_p.bind(*args, jaxpr=new_jaxpr, name=name, backend=backend)
    return outs, list(out_dims)


def _remember(key, entry, limit: int = 256) -> None:
    # A small bounded cache; the stored jaxpr keeps its id from being reused while cached.
    if len(_batched_jaxprs) >= limit:
        _batched_jaxprs.pop(next(iter(_batched_jaxprs)))
    _batched_jaxprs[key] = entry


batching.batch_rules[jit_p] = _jit_batch_rule
