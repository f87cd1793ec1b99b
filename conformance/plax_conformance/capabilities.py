"""Capability manifests: what a backend declares it computes.

A backend declares its capabilities through ``Backend.capabilities().to_manifest()``; a
vendor can also hand the suite a manifest file (``--capabilities FILE``, JSON or TOML)
that replaces it. A manifest is a mapping::

    {
      "dtypes": ["bool", "int8", ..., "float32"],   # required: the dtypes it computes
      "float64": false,                              # optional, must agree with dtypes
      "float16": false, "bfloat16": false,           # optional, must agree with dtypes
      "max_buffer_bytes": 1073741824,                # optional: the largest buffer
      "notes": {"flush_denormals": true}             # optional facts shown in reports
    }

Cases that need something outside the manifest are "not supported", with the reason. A
case inside it that then fails, fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plax import dtypes
from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal, subjaxprs

__all__ = ["Manifest", "ManifestError", "jaxpr_dtypes", "load_manifest_file",
           "manifest_from_backend", "parse_manifest"]

KNOWN_KEYS = ("dtypes", "float64", "float16", "bfloat16", "max_buffer_bytes", "notes",
              "schema_version")
_FLAG_KEYS = ("float64", "float16", "bfloat16")


class ManifestError(ValueError):
    """A capabilities manifest that cannot be used (the message says where and why)."""


@dataclass(frozen=True)
class Manifest:
    dtypes: frozenset
    max_buffer_bytes: int | None = None
    notes: dict = field(default_factory=dict)
    source: str = ""
    ignored_keys: tuple = ()

    @property
    def flush_denormals(self) -> bool:
        return bool(self.notes.get("flush_denormals", False))

    def unsupported(self, dts) -> list[np.dtype]:
        return sorted({np.dtype(d) for d in dts} - self.dtypes, key=lambda d: d.name)

    def dtype_reason(self, dts, where: str = "") -> str | None:
        missing = self.unsupported(dts)
        if not missing:
            return None
        names = ", ".join(d.name for d in missing)
        plural = "s" if len(missing) > 1 else ""
        context = f" ({where})" if where else ""
        return (f"needs dtype{plural} {names}{context}, which the backend does not declare "
                f"in its capabilities ({self.source})")

    def size_reason(self, arrays) -> str | None:
        if self.max_buffer_bytes is None:
            return None
        biggest = max((int(np.asarray(a).nbytes) for a in arrays), default=0)
        if biggest <= self.max_buffer_bytes:
            return None
        return (f"needs a buffer of {biggest} bytes; the backend declares max_buffer_bytes="
                f"{self.max_buffer_bytes} ({self.source})")

    def to_json(self) -> dict:
        names = {d.name for d in self.dtypes}
        return {
            "dtypes": sorted(names),
            "float64": "float64" in names,
            "float16": "float16" in names,
            "bfloat16": "bfloat16" in names,
            "max_buffer_bytes": self.max_buffer_bytes,
            "notes": {str(k): _jsonable(v) for k, v in self.notes.items()},
            "source": self.source,
            "ignored_keys": list(self.ignored_keys),
        }


def _jsonable(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def parse_manifest(data, source: str) -> Manifest:
    """Validate a manifest mapping; every problem is a ManifestError naming the source."""

    def fail(problem: str):
        raise ManifestError(f"malformed capabilities manifest ({source}): {problem}")

    if not isinstance(data, dict):
        fail(f"expected a mapping with a 'dtypes' list, got {type(data).__name__}")
    if "dtypes" not in data:
        fail("missing the required key 'dtypes' (a list of dtype names such as "
             "[\"bool\", \"int32\", \"float32\"])")
    raw = data["dtypes"]
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple, set, frozenset)):
        fail(f"'dtypes' must be a list of dtype names, got {raw!r}")
    known = {d.name: d for d in dtypes.ALL}
    known["bool_"] = dtypes.bool_
    declared = set()
    for name in raw:
        if not isinstance(name, str) or name not in known:
            fail(f"unknown dtype {name!r} in 'dtypes'; plax dtypes are "
                 f"{', '.join(sorted(d.name for d in dtypes.ALL))}")
        declared.add(known[name])
    if not declared:
        fail("'dtypes' is empty: a backend must compute at least one dtype")
    for flag in _FLAG_KEYS:
        if flag not in data:
            continue
        value = data[flag]
        if not isinstance(value, bool):
            fail(f"'{flag}' must be true or false, got {value!r}")
        if value != (np.dtype(flag if flag != "bfloat16" else dtypes.bfloat16) in declared):
            listed = "lists" if not value else "does not list"
            fail(f"'{flag}' is {str(value).lower()} but 'dtypes' {listed} {flag}")
    limit = data.get("max_buffer_bytes")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit <= 0):
        fail(f"'max_buffer_bytes' must be a positive integer or null, got {limit!r}")
    notes = data.get("notes") or {}
    if isinstance(notes, (list, tuple)):
        try:
            notes = dict(notes)
        except (TypeError, ValueError):
            fail(f"'notes' must be a mapping, got {notes!r}")
    if not isinstance(notes, dict):
        fail(f"'notes' must be a mapping, got {notes!r}")
    ignored = tuple(sorted(str(k) for k in data if k not in KNOWN_KEYS))
    return Manifest(frozenset(declared), limit, dict(notes), source, ignored)


def load_manifest_file(path) -> Manifest:
    """Read a JSON (or ``.toml``) manifest file."""
    path = Path(path)
    source = f"file {path}"
    try:
        text = path.read_text()
    except OSError as err:
        raise ManifestError(f"cannot read capabilities manifest {path}: {err.strerror}") from None
    if path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ManifestError(f"malformed capabilities manifest ({source}): not valid "
                                f"TOML: {err}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ManifestError(f"malformed capabilities manifest ({source}): not valid "
                                f"JSON: {err}") from None
    return parse_manifest(data, source)


def manifest_from_backend(backend) -> Manifest:
    source = f"backend {backend.name!r} capabilities()"
    try:
        data = backend.capabilities().to_manifest()
    except Exception as err:  # noqa: BLE001 -- a vendor's bug, reported as bad input
        raise ManifestError(f"malformed capabilities manifest ({source}): capabilities() "
                            f"raised {type(err).__name__}: {err}") from None
    return parse_manifest(data, source)


def jaxpr_dtypes(closed) -> set[np.dtype]:
    """Every dtype a jaxpr computes with: inputs, results, literals, sub-jaxprs."""
    jaxpr = closed.jaxpr if isinstance(closed, ClosedJaxpr) else closed
    found: set[np.dtype] = set()
    _collect(jaxpr, found)
    return found


def _collect(jaxpr: Jaxpr, found: set) -> None:
    for var in (*jaxpr.constvars, *jaxpr.invars, *jaxpr.outvars):
        found.add(var.aval.dtype)
    for eqn in jaxpr.eqns:
        for atom in (*eqn.invars, *eqn.outvars):
            found.add(atom.aval.dtype)
        for sub in subjaxprs(eqn.params):
            _collect(sub.jaxpr if isinstance(sub, ClosedJaxpr) else sub, found)
    for atom in jaxpr.outvars:
        if isinstance(atom, Literal):
            found.add(atom.aval.dtype)
