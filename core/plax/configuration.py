"""Global configuration: ``plax.config.update(name, value)``.

Options are read from the environment once, at import, and then only through
this module, so no other module reads environment variables for settings.
JAX's option names (``jax_enable_x64``, ``jax_platforms``) are accepted as
aliases so that JAX programs run unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"environment variable {name}={raw!r} is not a boolean; use 1/0 or true/false")


@dataclass(frozen=True)
class _Option:
    name: str
    default: object
    doc: str
    kind: type


_OPTIONS = {
    "enable_x64": _Option(
        "enable_x64", False, "allow 64-bit dtypes (otherwise they narrow to 32 bits)", bool
    ),
    "backend": _Option("backend", None, "backend name or comma-separated priority list", str),
    "enable_checks": _Option("enable_checks", False, "type-check every jaxpr plax builds", bool),
}

_ALIASES = {
    "jax_enable_x64": "enable_x64",
    "plax_enable_x64": "enable_x64",
    "jax_platforms": "backend",
    "jax_platform_name": "backend",
    "plax_backend": "backend",
    "jax_enable_checks": "enable_checks",
}


class Config:
    def __init__(self):
        self._values = {name: opt.default for name, opt in _OPTIONS.items()}
        self._values["enable_x64"] = _env_flag("PLAX_ENABLE_X64", False) or _env_flag(
            "JAX_ENABLE_X64", False
        )
        self._values["backend"] = os.environ.get("PLAX_BACKEND") or None
        self._values["enable_checks"] = _env_flag("PLAX_ENABLE_CHECKS", False)
        self._listeners = []

    def _canonical(self, name: str) -> str:
        key = _ALIASES.get(name, name)
        if key not in _OPTIONS:
            known = ", ".join(sorted(_OPTIONS) + sorted(_ALIASES))
            raise AttributeError(f"unknown config option {name!r}; known options: {known}")
        return key

    def update(self, name: str, value) -> None:
        key = self._canonical(name)
        option = _OPTIONS[key]
        if value is not None and option.kind is bool and not isinstance(value, bool):
            raise TypeError(f"config option {name!r} takes a bool, got {value!r}")
        if value is not None and option.kind is str and not isinstance(value, str):
            raise TypeError(f"config option {name!r} takes a string, got {value!r}")
        self._values[key] = value
        for listener in self._listeners:
            listener(key, value)

    def read(self, name: str):
        return self._values[self._canonical(name)]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.read(name)

    def on_change(self, listener) -> None:
        """Call ``listener(option, value)`` after every update (caches use it)."""
        self._listeners.append(listener)


config = Config()


def x64_enabled() -> bool:
    return config._values["enable_x64"]


def update(name: str, value) -> None:
    config.update(name, value)
