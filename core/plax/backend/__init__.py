"""The plugin contract (``interface``, ``hookspecs``) and the registry that finds
and selects backends. Backend packages import only from here and from the
public core modules."""

from plax.backend.interface import Backend, BackendSpec, Capabilities, Device, Executable

__all__ = ["Backend", "BackendSpec", "Capabilities", "Device", "Executable", "hookimpl"]


def __getattr__(name: str):
    # pluggy (and importlib.metadata under it) load only when a plugin or the
    # registry's discovery needs them: ``import plax`` stays lighter.
    if name == "hookimpl":
        from plax.backend.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'plax.backend' has no attribute {name!r}")
