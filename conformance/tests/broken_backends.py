"""Deliberately wrong backends, registered under names starting with ``test_``, so the
suite's own tests can check how failures, unsupported dtypes, xfails and minimal
programs are reported. Importing this module registers them (it also works as a pytest
plugin: ``-p broken_backends``, for the subprocess tests of the pytest plugin).

Each is the reference backend with a few primitives computed differently.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes
from plax.backend import BackendSpec, Capabilities
from plax.backend.registry import register_backend
from plax.interpreters import reference
from plax.jaxpr import Literal
from plax.reference.backend import ReferenceBackend, ReferenceExecutable, _freeze


def _exp_off_by_ulps(x):
    """exp, then 10 ulps too large: a mismatch with a known ulp error."""
    out = np.exp(x.astype(np.float64)).astype(x.dtype)
    for _ in range(10):
        out = np.nextafter(out, np.array(np.inf, x.dtype)).astype(x.dtype)
    return [out]


def _sin_is_cos(x):
    return [np.cos(x)]


def _add_plus_one(x, y):
    return [np.add(x, y) + np.ones((), x.dtype)]


def _float16_add_wrong(x, y):
    out = np.add(x, y)
    if x.dtype == dtypes.float16:
        out = out * np.float16(2)
    return [out]


class _Executable(ReferenceExecutable):
    def __init__(self, closed_jaxpr, overrides):
        super().__init__(closed_jaxpr)
        self.overrides = overrides

    def execute(self, buffers):
        jaxpr = self.closed_jaxpr.jaxpr
        env = dict(zip(jaxpr.constvars, self.closed_jaxpr.consts))
        env.update(zip(jaxpr.invars, buffers))

        def read(atom):
            return atom.val if isinstance(atom, Literal) else env[atom]

        for eqn in jaxpr.eqns:
            args = [np.asarray(read(a)) for a in eqn.invars]
            rule = self.overrides.get(eqn.primitive.name)
            if rule is None:
                outs = reference.apply(eqn.primitive, args, eqn.params,
                                       [v.aval for v in eqn.outvars])
            else:
                with np.errstate(all="ignore"):
                    outs = [np.asarray(o).astype(v.aval.dtype)
                            for o, v in zip(rule(*args, **eqn.params), eqn.outvars)]
            env.update(zip(eqn.outvars, outs))
        return [_freeze(np.asarray(read(a))) for a in jaxpr.outvars]


class BrokenBackend(ReferenceBackend):
    def __init__(self, name, overrides=None, capabilities=None, manifest=None):
        self.name = name  # before the reference backend names its devices after it
        super().__init__()
        self.overrides = overrides or {}
        self._capabilities = capabilities
        self._manifest = manifest

    def capabilities(self):
        if self._manifest is not None:
            return _RawCapabilities(self._manifest)
        return self._capabilities or Capabilities()

    def compile(self, closed_jaxpr, device):
        if "compile" in self.overrides:
            self.overrides["compile"](closed_jaxpr)
        return _Executable(closed_jaxpr, self.overrides)

    def info(self):
        return {"numpy": np.__version__, "driver": "test-driver 1.2.3"}


class _RawCapabilities:
    """Capabilities whose manifest is whatever the test wants (malformed ones included)."""

    def __init__(self, manifest):
        self.manifest = manifest

    def to_manifest(self):
        if isinstance(self.manifest, Exception):
            raise self.manifest
        return self.manifest


def _refuse_sort(closed):
    if any(e.primitive.name == "sort" for e in closed.jaxpr.eqns):
        raise NotImplementedError("test backend cannot lower 'sort'")


_NO_WIDE = Capabilities(dtypes=frozenset(
    d for d in dtypes.ALL if d not in (dtypes.float64, dtypes.float16, dtypes.bfloat16)))


def _failing_start():
    raise RuntimeError("no device found (driver missing)")


BACKENDS = {
    "test_exp_ulps": lambda: BrokenBackend("test_exp_ulps", {"exp": _exp_off_by_ulps}),
    "test_sin_is_cos": lambda: BrokenBackend("test_sin_is_cos", {"sin": _sin_is_cos}),
    "test_add_plus_one": lambda: BrokenBackend("test_add_plus_one", {"add": _add_plus_one}),
    "test_no_wide_floats": lambda: BrokenBackend("test_no_wide_floats",
                                                 capabilities=_NO_WIDE),
    "test_float16_wrong": lambda: BrokenBackend("test_float16_wrong",
                                                {"add": _float16_add_wrong}),
    "test_refuses_sort": lambda: BrokenBackend("test_refuses_sort", {"compile": _refuse_sort}),
    "test_bad_manifest": lambda: BrokenBackend("test_bad_manifest",
                                               manifest={"dtypes": "float32"}),
    "test_raising_manifest": lambda: BrokenBackend(
        "test_raising_manifest", manifest=ValueError("cannot query the device")),
    "test_fails_to_start": _failing_start,
}


def register() -> None:
    for name, load in BACKENDS.items():
        register_backend(BackendSpec(name, priority=-100, load=load, package="test-backends"))


register()
