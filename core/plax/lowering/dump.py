"""``PLAX_DUMP=dir``: write what compilation produced, for debugging.

Backends call ``dump(kind, name, text)``; with ``PLAX_DUMP`` set, each call
writes ``dir/<nnnn>-<name>.<kind>`` (numbered in order), e.g. the jaxpr, the
kernel schedule and the backend's code before and after optimisation.

``dump_failure`` writes the code of a failed compilation even when dumping is
off (into a fresh temporary directory), so the error can point at it.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading

__all__ = ["dump_dir", "dump", "dump_failure", "enabled"]

_counter = itertools.count()
_lock = threading.Lock()


def dump_dir() -> str | None:
    raw = os.environ.get("PLAX_DUMP")
    return os.path.expanduser(raw) if raw else None


def enabled() -> bool:
    return dump_dir() is not None


def dump(kind: str, name: str, text: str) -> str | None:
    """Write ``text`` when dumping is on; returns the path written (or None)."""
    directory = dump_dir()
    if directory is None:
        return None
    with _lock:
        n = next(_counter)
    os.makedirs(directory, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    path = os.path.join(directory, f"{n:04d}-{safe}.{kind}")
    with open(path, "w") as f:
        f.write(text)
    return path


def dump_failure(kind: str, name: str, text: str) -> str:
    """Write the code a backend failed to compile; returns the path written."""
    path = dump(kind, f"{name}-failed", text)
    if path is None:
        directory = tempfile.mkdtemp(prefix="plax-dump-")
        path = os.path.join(directory, f"{name}-failed.{kind}")
        with open(path, "w") as f:
            f.write(text)
    return path
