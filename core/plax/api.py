"""``jit``, ``make_jaxpr``, ``eval_shape`` and placement functions.

``jit(f)`` traces ``f`` once per abstract signature (pytree structure, avals,
static arguments, backend, x64 mode) into a jaxpr, simplifies it, and runs
it as one compiled program. Inside another transformation a jitted call is a
``jit`` equation holding its jaxpr, so transformations see through it.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from plax import core, dispatch, passes
from plax.abstract import ShapedArray
from plax.array import Array
from plax.backend.interface import Device
from plax.backend.registry import get_backend
from plax.configuration import config, x64_enabled
from plax.interpreters import reference
from plax.interpreters.partial_eval import convert_constvars_to_invars, trace_to_jaxpr
from plax.jaxpr import ClosedJaxpr
from plax.tree_util import tree_flatten, tree_leaves, tree_map, tree_unflatten

# ----------------------------------------------------------------------------
# The jit primitive.

jit_p = core.Primitive("jit", multiple_results=True)


def _jit_abstract_eval(*avals, jaxpr: ClosedJaxpr, name: str, backend):
    expected = jaxpr.in_avals
    if [a.strip_weak_type() for a in avals] != [a.strip_weak_type() for a in expected]:
        raise TypeError(
            f"jit-compiled {name} called with {[str(a) for a in avals]}, "
            f"but its jaxpr expects {[str(a) for a in expected]}"
        )
    return list(jaxpr.out_avals)


def _jit_impl(*args, jaxpr: ClosedJaxpr, name: str, backend):
    return reference.eval_closed_jaxpr(jaxpr, args)


def _jit_eager(*args, jaxpr: ClosedJaxpr, name: str, backend):
    device, committed = _target_device(backend, args)
    arrays = dispatch.to_arrays(args, device)
    return dispatch.execute(dispatch.compile_program(jaxpr, device), arrays, device, committed)


core.abstract_eval_rules[jit_p] = _jit_abstract_eval
reference.impl_rules[jit_p] = _jit_impl
dispatch.eager_rules[jit_p] = _jit_eager


def _target_device(backend: str | None, args) -> tuple[Device, bool]:
    """Where a jitted call runs, and whether its results are committed there."""
    if backend is not None:
        return get_backend(backend).devices()[0], True
    return dispatch.placement_of(args)


# ----------------------------------------------------------------------------
# jit.


_INT32_BOUND = 1 << 31


@functools.lru_cache(maxsize=None)
def _scalar_aval(kind: type, x64: bool) -> ShapedArray:
    """The weakly typed aval of a Python float or int (x64 is part of the key)."""
    return core.get_aval(kind(0))


class _CacheEntry:
    __slots__ = ("jaxpr", "out_tree", "executables")

    def __init__(self, jaxpr: ClosedJaxpr, out_tree):
        self.jaxpr = jaxpr
        self.out_tree = out_tree
        self.executables: dict[Device, Any] = {}


def _normalize_static(fun, static_argnums, static_argnames):
    if static_argnums is None:
        static_argnums = ()
    elif isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if static_argnames is None:
        static_argnames = ()
    elif isinstance(static_argnames, str):
        static_argnames = (static_argnames,)
    static_argnums = tuple(int(i) for i in static_argnums)
    static_argnames = tuple(static_argnames)
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return static_argnums, static_argnames
    positional = [p.name for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = set(static_argnames)
    nums = set(static_argnums)
    # As in JAX, each static argument can be passed by position or by name.
    for i in static_argnums:
        if -len(positional) <= i < len(positional):
            names.add(positional[i])
    for name in static_argnames:
        if name in positional:
            nums.add(positional.index(name))
    return tuple(sorted(nums)), tuple(sorted(names))


def _hashable_static(value, where: str):
    try:
        hash(value)
    except TypeError as err:
        raise ValueError(
            f"Non-hashable static arguments are not supported: {where} is a "
            f"{type(value).__name__} ({value!r}), which cannot be hashed ({err}). "
            "Pass it as a regular (traced) argument, or convert it to a hashable value "
            "such as a tuple."
        ) from None
    return value


class JitFunction:
    """The result of ``plax.jit(f)``: call it, or ``.lower(...)`` to inspect it."""

    def __init__(self, fun: Callable, static_argnums=None, static_argnames=None,
                 backend: str | None = None, donate_argnums=None):
        if not callable(fun):
            raise TypeError(f"jit expects a callable, got {fun!r}")
        self._fun = fun
        self._static_argnums, self._static_argnames = _normalize_static(
            fun, static_argnums, static_argnames
        )
        self._backend = backend
        self._cache: dict = {}
        self._fast_calls: dict = {}
        # Copy the name and docs only: copying __dict__ would take over the _fun and
        # cache of a jitted function that `fun` wraps.
        functools.update_wrapper(self, fun, updated=())

    def __get__(self, instance, owner=None):
        # Decorated methods: bind ``self`` as the first argument.
        return self if instance is None else functools.partial(self, instance)

    # -- argument handling ---------------------------------------------------
    def _split(self, args, kwargs):
        nargs = len(args)
        static_pos = {i % nargs for i in self._static_argnums if -nargs <= i < nargs}
        dyn_args = [a for i, a in enumerate(args) if i not in static_pos]
        statics = tuple(
            (i, _hashable_static(args[i], f"static argument {i}")) for i in sorted(static_pos)
        )
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self._static_argnames}
        static_kw = tuple(
            (k, _hashable_static(v, f"static argument {k!r}"))
            for k, v in sorted(kwargs.items())
            if k in self._static_argnames
        )
        return tuple(dyn_args), dyn_kwargs, statics, static_kw

    def _merge(self, dyn_args, dyn_kwargs, statics, static_kw):
        args = list(dyn_args)
        for i, value in statics:
            args.insert(i, value)
        return args, {**dyn_kwargs, **dict(static_kw)}

    def _entry(self, args, kwargs):
        if not kwargs and not self._static_argnums and all(map(_is_leaf_arg, args)):
            # Fast path for the common call f(x, y, ...) with array arguments.
            dyn_args, dyn_kwargs, statics, static_kw = args, {}, (), ()
            flat, in_tree = list(args), _flat_treedef(len(args))
        else:
            dyn_args, dyn_kwargs, statics, static_kw = self._split(args, kwargs)
            flat, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        avals = tuple(_arg_aval(x, self._fun) for x in flat)
        key = (in_tree, avals, statics, static_kw, self._backend, x64_enabled())
        entry = self._cache.get(key)
        if entry is not None:
            return entry, flat, []
        closed, out_tree = self._trace(in_tree, avals, statics, static_kw)
        closed, lifted = convert_constvars_to_invars(closed)
        entry = _CacheEntry(closed, out_tree)
        if not lifted:
            # Closures over an outer transformation's tracers are per-call, never cached.
            self._cache[key] = entry
        return entry, flat, lifted

    def _trace(self, in_tree, avals, statics, static_kw):
        out_tree_box = []

        def flat_fun(*flat_args):
            dyn_args, dyn_kwargs = tree_unflatten(in_tree, flat_args)
            call_args, call_kwargs = self._merge(dyn_args, dyn_kwargs, statics, static_kw)
            out = self._fun(*call_args, **call_kwargs)
            out_flat, out_tree = tree_flatten(out)
            out_tree_box.append(out_tree)
            return out_flat

        closed = trace_to_jaxpr(flat_fun, avals)
        closed = passes.simplify(closed)
        if config.read("enable_checks"):
            from plax.jaxpr_check import check_jaxpr

            check_jaxpr(closed)
        return closed, out_tree_box[0]

    # -- calling ---------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not kwargs and core.at_top_level():
            fast_key = self._fast_key(args)
            hit = self._fast_calls.get(fast_key) if fast_key is not None else None
            if hit is not None:
                out_tree, executable = hit
                device, committed, scalars = fast_key[1], fast_key[2], fast_key[4]
                if scalars:
                    backend = device.backend
                    buffers = executable.execute([
                        x._buffer if type(x) is Array
                        else backend.buffer_from_numpy(np.asarray(x, aval.dtype), device)
                        for x, aval in zip(args, fast_key[0])])
                else:
                    buffers = executable.execute([x._buffer for x in args])
                outs = [Array(b, aval, device, committed)
                        for b, aval in zip(buffers, executable.out_avals)]
                return outs[0] if out_tree is _LEAF_TREEDEF else tree_unflatten(out_tree, outs)
        else:
            fast_key = None
        entry, flat, lifted = self._entry(args, kwargs)
        if not lifted and core.at_top_level() and not any(
            isinstance(x, core.Tracer) for x in flat
        ):
            device, committed = _target_device(self._backend, flat)
            executable = entry.executables.get(device)
            if executable is None:
                executable = dispatch.compile_program(entry.jaxpr, device)
                entry.executables[device] = executable
            arrays = dispatch.to_arrays(flat, device)
            outs = dispatch.execute(executable, arrays, device, committed)
            if fast_key is not None and fast_key[1] == device:
                self._fast_calls[fast_key] = (entry.out_tree, executable)
        else:
            outs = jit_p.bind(
                *lifted, *flat, jaxpr=entry.jaxpr, name=self.__name__, backend=self._backend
            )
        return tree_unflatten(entry.out_tree, outs)

    def _fast_key(self, args):
        """The cache key of a call whose arguments are Arrays on one device and Python
        floats and (int32-range) ints, else None.

        Such calls (the common ``f(x, y)`` and ``f(x, 2.0)``) skip pytree flattening
        and placement.
        """
        if self._static_argnums or self._backend is not None:
            return None
        device = None
        committed = False
        scalars = False
        avals = []
        x64 = x64_enabled()
        for x in args:
            kind = type(x)
            if kind is not Array:
                if kind is float or (kind is int and -_INT32_BOUND <= x < _INT32_BOUND):
                    avals.append(_scalar_aval(kind, x64))
                    scalars = True
                    continue
                return None
            if device is None:
                device = x._device
            elif x._device is not device and x._device != device:
                return None
            committed = committed or x._committed
            avals.append(x.aval)
        if device is None:
            return None
        return (tuple(avals), device, committed, x64, scalars)

    def lower(self, *args, **kwargs) -> "Lowered":
        entry, flat, lifted = self._entry(args, kwargs)
        device, _ = _target_device(self._backend, flat)
        return Lowered(self, entry, device)

    def clear_cache(self) -> None:
        self._cache.clear()
        self._fast_calls.clear()

    def _cache_size(self) -> int:
        return len(self._cache)

    def __repr__(self) -> str:
        return f"<plax.jit of {getattr(self._fun, '__qualname__', self._fun)}>"


_LEAF_TREEDEF = tree_flatten(0)[1]
_LEAF_TYPES = (Array, core.Tracer, np.ndarray, np.generic, float, int, bool)
_flat_treedefs: dict[int, object] = {}


def _is_leaf_arg(x) -> bool:
    return isinstance(x, _LEAF_TYPES)


def _flat_treedef(n: int):
    """The treedef of ``((x1, ..., xn), {})`` for n array leaves, built once per n."""
    treedef = _flat_treedefs.get(n)
    if treedef is None:
        treedef = _flat_treedefs[n] = tree_flatten((tuple(range(n)), {}))[1]
    return treedef


def _arg_aval(x, fun) -> ShapedArray:
    try:
        return core.get_aval(x)
    except TypeError as err:
        name = getattr(fun, "__name__", "function")
        raise TypeError(
            f"Argument of type {type(x).__name__} passed to jit-compiled {name} is not a valid "
            f"plax type: {err}. Mark non-array arguments static with static_argnums / "
            "static_argnames."
        ) from None


class Lowered:
    """A traced program: its jaxpr, and ``compile()`` for the backend's output."""

    def __init__(self, jitted: JitFunction, entry: _CacheEntry, device: Device):
        self._jitted = jitted
        self._entry = entry
        self.device = device

    @property
    def jaxpr(self) -> ClosedJaxpr:
        return self._entry.jaxpr

    def as_text(self) -> str:
        return str(self._entry.jaxpr)

    def compile(self) -> "Compiled":
        executable = self._entry.executables.get(self.device)
        if executable is None:
            executable = dispatch.compile_program(self._entry.jaxpr, self.device)
            self._entry.executables[self.device] = executable
        return Compiled(self._jitted, executable)


class Compiled:
    def __init__(self, jitted: JitFunction, executable):
        self._jitted = jitted
        self.executable = executable

    def as_text(self) -> str:
        return self.executable.as_text()

    def __call__(self, *args, **kwargs):
        return self._jitted(*args, **kwargs)


def jit(fun: Callable | None = None, *, static_argnums=None, static_argnames=None,
        backend: str | None = None, device=None, donate_argnums=None, inline: bool = False,
        keep_unused: bool = False):
    """Compile ``fun`` for the backend; usable as ``@jit`` or ``@jit(static_argnums=...)``."""
    if device is not None and backend is None:
        backend = device.backend_name
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, backend=backend)
    return JitFunction(fun, static_argnums, static_argnames, backend, donate_argnums)


# ----------------------------------------------------------------------------
# make_jaxpr and eval_shape.


class ShapeDtypeStruct:
    """A shape and dtype without data (what ``eval_shape`` returns)."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type: bool = False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type

    @property
    def aval(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype, self.weak_type)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __eq__(self, other):
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"


def _trace_pytree_function(fun, static_argnums, args, kwargs):
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    nargs = len(args)
    static_pos = {i % nargs for i in nums if -nargs <= i < nargs}
    dyn = tuple(a for i, a in enumerate(args) if i not in static_pos)
    flat, in_tree = tree_flatten((dyn, kwargs))
    avals = [_arg_aval(x, fun) for x in flat]
    out_tree_box = []

    def flat_fun(*flat_args):
        dyn_args, dyn_kwargs = tree_unflatten(in_tree, flat_args)
        it = iter(dyn_args)
        call_args = [args[i] if i in static_pos else next(it) for i in range(nargs)]
        out = fun(*call_args, **dyn_kwargs)
        out_flat, out_tree = tree_flatten(out)
        out_tree_box.append(out_tree)
        return out_flat

    closed = trace_to_jaxpr(flat_fun, avals)
    return closed, out_tree_box[0]


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = (),
               return_shape: bool = False):
    """``make_jaxpr(f)(*args)`` returns the ClosedJaxpr that ``f`` traces to."""

    @functools.wraps(fun)
    def make(*args, **kwargs):
        closed, out_tree = _trace_pytree_function(fun, static_argnums, args, kwargs)
        if config.read("enable_checks"):
            from plax.jaxpr_check import check_jaxpr

            check_jaxpr(closed)
        if return_shape:
            shapes = [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type) for a in closed.out_avals]
            return closed, tree_unflatten(out_tree, shapes)
        return closed

    return make


def _as_aval_arg(x):
    if isinstance(x, ShapeDtypeStruct):
        return _AbstractArg(x.aval)
    return x


class _AbstractArg:
    """A ShapeDtypeStruct standing in for an argument during eval_shape."""

    def __init__(self, aval: ShapedArray):
        self.aval = aval


def eval_shape(fun: Callable, *args, **kwargs):
    """The shapes and dtypes ``fun`` would return, computed without running it."""
    args, kwargs = tree_map(_as_aval_arg, (args, kwargs),
                            is_leaf=lambda x: isinstance(x, ShapeDtypeStruct))
    closed, out_tree = _trace_pytree_function(fun, (), args, kwargs)
    shapes = [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type) for a in closed.out_avals]
    return tree_unflatten(out_tree, shapes)


# ----------------------------------------------------------------------------
# Placement.


def device_put(x, device: Device | None = None):
    """Move a pytree of values to ``device`` (default: the default backend's first)."""
    return tree_map(lambda leaf: dispatch.device_put(leaf, device), x)


def device_get(x):
    """A pytree of arrays as numpy arrays on the host."""
    return tree_map(lambda leaf: np.asarray(leaf) if isinstance(leaf, Array) else leaf, x)


def block_until_ready(x):
    for leaf in tree_leaves(x):
        if isinstance(leaf, Array):
            leaf.block_until_ready()
    return x
