"""An on-disk cache for compiled code, shared by backends.

Entries are files named by a hash of (namespace, version key, entry key).
Writes go to a temporary file in the same directory and are moved into place
with ``os.replace``, so readers never see a partial entry; each entry carries a
SHA-256 of its payload, and an entry that is truncated or corrupt is deleted
and treated as a miss (the caller rebuilds it). A cache directory that cannot
be created or written disables the cache with one warning; it never fails a
compilation.

The directory is ``PLAX_CACHE_DIR`` if set (``0``/``off`` disables caching),
else ``~/.cache/plax``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings

__all__ = ["DiskCache", "default_cache_dir"]

_MAGIC = b"PLAXCACHE1\n"
_DISABLED = ("0", "off", "false", "no", "none")


def default_cache_dir() -> str | None:
    """The cache directory from ``PLAX_CACHE_DIR`` (None when caching is off)."""
    raw = os.environ.get("PLAX_CACHE_DIR")
    if raw is not None:
        if raw.strip().lower() in _DISABLED or not raw.strip():
            return None
        return os.path.expanduser(raw)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "plax")


class DiskCache:
    """``get(key) -> bytes | None`` and ``put(key, data)`` under ``directory/namespace``."""

    def __init__(self, namespace: str, version_key: str, directory: str | None = None):
        root = default_cache_dir() if directory is None else directory
        self.directory = None if root is None else os.path.join(root, namespace)
        self.version_key = version_key
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _path(self, key: str) -> str:
        digest = hashlib.sha256((self.version_key + "\0" + key).encode()).hexdigest()
        return os.path.join(self.directory, digest[:2], digest[2:] + ".bin")

    def get(self, key: str) -> bytes | None:
        if self.directory is None:
            return None
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except OSError:
            return None
        payload = _unpack(blob)
        if payload is None:
            try:
                os.remove(path)  # corrupt or truncated: rebuild it
            except OSError:
                pass
        return payload

    def put(self, key: str, data: bytes) -> None:
        if self.directory is None:
            return
        path = self._path(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(_pack(data))
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.remove(tmp)
                except OSError:
                    pass
                raise
        except OSError as err:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"plax: cannot write the compiled-code cache in {self.directory} ({err}); "
                    "continuing without it. Set PLAX_CACHE_DIR to a writable directory, or "
                    "PLAX_CACHE_DIR=off.",
                    stacklevel=2,
                )
            self.directory = None


def _pack(data: bytes) -> bytes:
    return _MAGIC + hashlib.sha256(data).hexdigest().encode() + b"\n" + data


def _unpack(blob: bytes) -> bytes | None:
    head = len(_MAGIC) + 65
    if len(blob) < head or not blob.startswith(_MAGIC):
        return None
    digest = blob[len(_MAGIC):head - 1].decode("ascii", "replace")
    data = blob[head:]
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    return data
