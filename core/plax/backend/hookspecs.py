"""The hooks a backend package implements. A plugin module is registered with
pluggy under the entry-point group ``plax.backends``::

    # pyproject.toml of plax-myaccel
    [project.entry-points."plax.backends"]
    myaccel = "plax_myaccel.plugin"

    # plax_myaccel/plugin.py -- keep imports light; load heavy ones in the loader
    from plax.backend import BackendSpec, hookimpl

    @hookimpl
    def plax_backends():
        return [BackendSpec("myaccel", priority=50, load=_load, is_available=_probe)]
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("plax")
hookimpl = pluggy.HookimplMarker("plax")


@hookspec
def plax_backends() -> list:
    """Return the backends this package provides, as a list of ``BackendSpec``
    (name, priority, a loader that builds the ``Backend``, and an availability
    probe that returns ``(available, reason)`` without raising)."""
