"""Finds backend plugins (entry-point group ``plax.backends``) and selects one.

Discovery happens once, on first use. A plugin that fails to import, or that
declares a plax version range this plax is outside of, is skipped with a
warning naming its package; plax itself keeps working. Selection follows
``plax.config.backend`` (``PLAX_BACKEND``): one name or a comma-separated
priority list. Unset, the available backend with the highest priority wins.
An explicit selection never silently falls back to a backend not named.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

from plax import errors
from plax.backend.interface import Backend, BackendSpec, Device
from plax.configuration import config

ENTRY_POINT_GROUP = "plax.backends"


@dataclass(frozen=True)
class BackendInfo:
    """One installed backend as ``plax.backends()`` reports it."""

    name: str
    priority: int
    available: bool
    reason: str
    version: str
    package: str


class _Registry:
    def __init__(self):
        self.lock = threading.RLock()
        self.specs: dict[str, BackendSpec] = {}
        self.instances: dict[str, Backend] = {}
        self.load_errors: dict[str, str] = {}
        self.skipped_plugins: list[tuple[str, str]] = []  # (package, why)
        self.discovered = False
        self.default_cache: dict = {}

    # -- discovery ---------------------------------------------------------
    def discover(self) -> None:
        with self.lock:
            if self.discovered:
                return
            self.discovered = True
            # Imported here, not at module level: discovery runs once, on first use.
            import importlib.metadata

            import pluggy

            from plax.backend import hookspecs

            manager = pluggy.PluginManager("plax")
            manager.add_hookspecs(hookspecs)
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                self._register_entry_point(manager, ep)
            for impl in manager.hook.plax_backends.get_hookimpls():
                package, version = getattr(impl.plugin, "__plax_package__", ("", ""))
                try:
                    specs = list(impl.function() or ())
                except Exception as err:  # noqa: BLE001
                    self._skip(package, f"plax_backends() raised {type(err).__name__}: {err}")
                    continue
                for spec in specs:
                    spec.package = spec.package or package
                    spec.version = spec.version or version
                    self.add(spec, replace=False)

    def _register_entry_point(self, manager, ep) -> None:
        dist = getattr(ep, "dist", None)
        package = dist.metadata["Name"] if dist is not None else ep.value
        version = dist.version if dist is not None else ""
        incompatible = _incompatible_plax_requirement(dist)
        if incompatible:
            self._skip(package, incompatible)
            return
        try:
            module = ep.load()
        except Exception as err:  # noqa: BLE001 -- any plugin failure must not break plax
            self._skip(package, f"failed to import {ep.value!r}: {type(err).__name__}: {err}")
            return
        try:
            # Record the owning package so reports can name it.
            module.__plax_package__ = (package, version)
            manager.register(module, name=f"{package}:{ep.name}")
        except Exception as err:  # noqa: BLE001
            self._skip(package, f"invalid plugin module {ep.value!r}: {err}")

    def _skip(self, package: str, why: str) -> None:
        self.skipped_plugins.append((package, why))
        warnings.warn(f"plax: skipping backend plugin package {package!r}: {why}", stacklevel=3)

    def add(self, spec: BackendSpec, replace: bool = True) -> None:
        with self.lock:
            if spec.name in self.specs and not replace:
                warnings.warn(
                    f"plax: backend {spec.name!r} is provided twice; keeping the one from "
                    f"{self.specs[spec.name].package or 'the first plugin'}",
                    stacklevel=2,
                )
                return
            if not spec.package:
                module = getattr(spec.load, "__module__", "") or ""
                spec.package = module.split(".")[0]
            self.specs[spec.name] = spec
            self.instances.pop(spec.name, None)
            self.load_errors.pop(spec.name, None)
            self.default_cache.clear()

    def remove(self, name: str) -> None:
        with self.lock:
            self.specs.pop(name, None)
            self.instances.pop(name, None)
            self.load_errors.pop(name, None)
            self.default_cache.clear()

    # -- status ------------------------------------------------------------
    def status(self, name: str) -> tuple[bool, str]:
        spec = self.specs[name]
        if name in self.load_errors:
            return False, self.load_errors[name]
        try:
            ok, reason = spec.is_available()
        except Exception as err:  # noqa: BLE001 -- a probe must not break plax
            return False, f"availability probe raised {type(err).__name__}: {err}"
        return bool(ok), reason or ""

    def infos(self) -> list[BackendInfo]:
        self.discover()
        out = []
        for name, spec in sorted(self.specs.items(), key=lambda kv: -kv[1].priority):
            ok, reason = self.status(name)
            out.append(BackendInfo(name, spec.priority, ok, reason, spec.version, spec.package))
        return out

    def describe_installed(self) -> str:
        lines = []
        for info in self.infos():
            state = "available" if info.available else f"unavailable: {info.reason}"
            lines.append(f"  {info.name} (priority {info.priority}, {info.package}): {state}")
        for package, why in self.skipped_plugins:
            lines.append(f"  [skipped plugin package {package}]: {why}")
        return "\n".join(lines) if lines else "  (none)"

    # -- instances -----------------------------------------------------------
    def instance(self, name: str) -> Backend:
        self.discover()
        with self.lock:
            backend = self.instances.get(name)
            if backend is not None:
                return backend
            if name not in self.specs:
                raise errors.BackendError(
                    f"unknown backend {name!r}. Installed backends:\n{self.describe_installed()}"
                )
            ok, reason = self.status(name)
            if not ok:
                raise errors.BackendError(
                    f"backend {name!r} is installed but not available: {reason}\n"
                    f"Installed backends:\n{self.describe_installed()}"
                )
            try:
                backend = self.specs[name].load()
            except Exception as err:  # noqa: BLE001
                self.load_errors[name] = f"failed to start: {type(err).__name__}: {err}"
                raise errors.BackendError(
                    f"backend {name!r} failed to start: {type(err).__name__}: {err}\n"
                    f"Installed backends:\n{self.describe_installed()}"
                ) from err
            self.instances[name] = backend
            return backend

    def select(self, request: str | None) -> Backend:
        """The backend for a request: a name, a comma list, or None (automatic)."""
        self.discover()
        key = request
        cached = self.default_cache.get(key)
        if cached is not None:
            return cached
        if request:
            backend = self._select_explicit(request)
        else:
            backend = self._select_automatic()
        self.default_cache[key] = backend
        return backend

    def _select_explicit(self, request: str) -> Backend:
        names = [n.strip() for n in request.split(",") if n.strip()]
        if not names:
            raise errors.BackendError(f"empty backend selection {request!r}")
        unknown = [n for n in names if n not in self.specs]
        if unknown:
            raise errors.BackendError(
                f"unknown backend {unknown[0]!r} in selection {request!r}. "
                f"Installed backends:\n{self.describe_installed()}"
            )
        if len(names) == 1:
            return self.instance(names[0])
        reasons = []
        for name in names:
            try:
                return self.instance(name)
            except errors.BackendError as err:
                reasons.append(f"{name}: {str(err).splitlines()[0]}")
        raise errors.BackendError(
            f"none of the requested backends {request!r} is available:\n  "
            + "\n  ".join(reasons)
            + f"\nInstalled backends:\n{self.describe_installed()}"
        )

    def _select_automatic(self) -> Backend:
        for info in self.infos():
            if not info.available:
                continue
            try:
                return self.instance(info.name)
            except errors.BackendError as err:
                warnings.warn(f"plax: {str(err).splitlines()[0]}; trying the next backend")
        raise errors.BackendError(
            f"no plax backend is available. Installed backends:\n{self.describe_installed()}"
        )


def _incompatible_plax_requirement(dist) -> str:
    """Why ``dist`` can't run with this plax (its Requires-Dist on plax), or ''."""
    if dist is None or dist.metadata["Name"] == "plax":
        return ""
    from packaging.requirements import InvalidRequirement, Requirement

    from plax._version import __version__

    for line in dist.requires or ():
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.name.lower() != "plax" or req.marker is not None and "extra" in str(req.marker):
            continue
        if req.specifier and not req.specifier.contains(__version__, prereleases=True):
            return (
                f"it requires plax{req.specifier} but plax {__version__} is installed; "
                "upgrade one of them"
            )
    return ""


_registry = _Registry()
config.on_change(lambda option, value: _registry.default_cache.clear())


def register_backend(spec: BackendSpec) -> None:
    """Register a backend directly (tests, notebooks) without an entry point."""
    _registry.discover()
    _registry.add(spec)


def unregister_backend(name: str) -> None:
    _registry.remove(name)


def get_backend(name: str | None = None) -> Backend:
    """The named backend, or the default one (``PLAX_BACKEND`` / highest priority)."""
    return _registry.select(name if name is not None else config.read("backend"))


def default_backend() -> str:
    """The name of the backend plax uses when none is named."""
    return get_backend().name


def backends() -> list[BackendInfo]:
    return _registry.infos()


def devices(backend: str | None = None) -> list[Device]:
    return get_backend(backend).devices()


def describe_installed() -> str:
    return _registry.describe_installed()


def skipped_plugins() -> list[tuple[str, str]]:
    _registry.discover()
    return list(_registry.skipped_plugins)
