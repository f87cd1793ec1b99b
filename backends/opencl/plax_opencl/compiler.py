"""Building OpenCL programs, with binaries cached in memory and on disk.

The kernels an executable needs that are not built yet are built together as one
program; a kernel built once (for an eager operation or another program) is
reused by its source. A build is looked up in memory, then in plax's disk cache
(``plax.lowering.disk_cache``, namespace ``opencl``), keyed by the source and the
build options, under a version key naming the device, its driver and platform
versions, pyopencl and plax: a new driver never loads an old binary. A cached
binary the driver rejects is discarded and rebuilt from source. PoCL is the
exception: it caches builds itself, and fetching a PoCL binary costs more than
the build, so there only PoCL's own cache is used; and there a program is built
with only the builtin declarations it uses instead of all of ``opencl-c.h``
(``pocl_headers``), which makes a small program's build about six times cheaper.

A program the device rejects raises ``plax.errors.BackendCompileError`` naming
the device, with the build log and (with ``PLAX_DUMP``) the source written out.
"""

from __future__ import annotations

import threading
import time
import warnings

from plax._version import __version__ as plax_version
from plax.errors import BackendCompileError
from plax.lowering import dump as plax_dump
from plax.lowering.disk_cache import DiskCache

from plax_opencl._version import __version__
from plax_opencl.pocl_headers import POCL_PLATFORM, PoclHeaders

__all__ = ["ProgramCache", "KernelHandle"]


class _Entry:
    """A ``__kernel`` of a built program; the ``pyopencl.Kernel`` is made on first use
    (for PoCL that is also when its machine code is generated)."""

    __slots__ = ("cl", "program", "name", "_kernel", "owner")

    def __init__(self, cl, program, name: str):
        self.cl = cl
        self.program = program
        self.name = name
        self._kernel = None
        # The launcher whose fixed arguments the kernel holds (``runtime._KernelLaunch``).
        self.owner = None

    @property
    def kernel(self):
        if self._kernel is None:
            self._kernel = self.cl.Kernel(self.program, self.name)
        return self._kernel


class KernelHandle:
    """A built kernel: an entry point of its own, or (``which`` set) case ``which`` of a
    dispatching entry point with ``nbuf`` buffer parameters."""

    __slots__ = ("entry", "which", "nbuf")

    def __init__(self, entry: _Entry, which: int | None = None, nbuf: int = 0):
        self.entry = entry
        self.which = which
        self.nbuf = nbuf

    @property
    def kernel(self):
        return self.entry.kernel


class ProgramCache:
    """OpenCL kernels for rendered kernel IR, on one device.

    ``kernels(rendered)`` returns a ``KernelHandle`` for each rendered kernel.
    Kernels seen before (by their source) come from memory; the others are built
    together as one program, because a build costs far more than a kernel in it
    (PoCL: about 0.15 s per program, 2 ms per kernel in it). With ``dispatch`` (CPU
    devices) the program has a single entry that switches to the kernel asked for
    (``OpenCLRenderer.dispatch_program``): PoCL then generates machine code once per
    program instead of once per kernel.
    """

    def __init__(self, cl, context, info, renderer, options: str = "", dispatch: bool = False):
        self.cl = cl
        self.dispatch = dispatch
        self.context = context
        self.info = info
        self.renderer = renderer
        self.options = options
        version_key = "|".join((
            f"plax-opencl {__version__}", f"plax {plax_version}", f"pyopencl {cl.VERSION_TEXT}",
            info.platform_name, info.platform_version, info.name, info.version,
            info.driver_version,
        ))
        self.disk = DiskCache("opencl", version_key)
        # PoCL caches every build itself (source hash -> compiled kernels), and asking it
        # for a program's binary compiles every kernel in it for a default work-group
        # size, which costs more than the build: there, plax's disk cache is left out.
        self.binary_cache = info.platform_name != POCL_PLATFORM
        # PoCL: builds carry the builtin declarations they use instead of parsing all
        # of opencl-c.h (see ``pocl_headers``); None after a trimmed build failed where
        # a plain one worked (then every build is plain).
        self.headers = PoclHeaders.find(info)
        self._kernels: dict = {}  # build options + single-kernel source -> KernelHandle
        self._lock = threading.Lock()
        self.stats = {"programs": 0, "kernels": 0, "build_seconds": 0.0, "disk_hits": 0,
                      "disk_seconds": 0.0, "memory_hits": 0, "max_build_seconds": 0.0,
                      "siblings": 0, "header_fallbacks": 0}

    def kernels(self, rendered: list, extras=None, quick: bool = False) -> list:
        """A ``KernelHandle`` for each rendered kernel, building the new ones.

        ``extras`` (a function returning {label: [Rendered, ...]}, called only when
        something is built) are kernels likely to be asked for later (``siblings``):
        in dispatch mode they are built into the same program and entry
        point, where they cost a few milliseconds each instead of a program each.
        ``quick`` builds without optimisation (``-cl-opt-disable``): for kernels so small
        that compiling them costs more than running them, it halves PoCL's time."""
        with self._lock:
            options = self.options + (" -cl-opt-disable" if quick else "")
            sources = [options + "\n" + r.source for r in rendered]
            missing = {}
            for r, source in zip(rendered, sources):
                if source in self._kernels:
                    self.stats["memory_hits"] += 1
                elif source not in missing:
                    missing[source] = r
            if missing:
                if self.dispatch:
                    self._build_dispatch(missing, extras() if extras else {}, options)
                else:
                    todo = list(missing.values())
                    names = [f"plax_k{j}" for j in range(len(todo))]
                    prg = self._get(self.renderer.program(todo, names), len(todo), options)
                    for source, name in zip(missing, names):
                        self._kernels[source] = KernelHandle(_Entry(self.cl, prg, name))
            return [self._kernels[source] for source in sources]

    def _build_dispatch(self, missing: dict, extras: dict, options: str) -> None:
        items = list(missing.items())
        wanted = len(items)
        for kernels in extras.values():
            for r in kernels:
                source = options + "\n" + r.source
                if source not in self._kernels and source not in missing:
                    missing[source] = r
                    items.append((source, r))
        text, nbufs = self.renderer.dispatch_program([("plax_entry", [r for _, r in items])])
        try:
            prg = self._get(text, len(items), options)
        except BackendCompileError:
            if len(items) == wanted:
                raise
            # Siblings are optional: never let one cost the program.
            items = items[:wanted]
            text, nbufs = self.renderer.dispatch_program(
                [("plax_entry", [r for _, r in items])])
            prg = self._get(text, len(items), options)
        self.stats["siblings"] += len(items) - wanted
        entry = _Entry(self.cl, prg, "plax_entry")
        for j, (source, _) in enumerate(items):
            self._kernels[source] = KernelHandle(entry, j, nbufs["plax_entry"])

    def _get(self, text: str, count: int, options: str | None = None):
        options = self.options if options is None else options
        prg = self._from_disk(text, options)
        if prg is None:
            prg = self._build(text, count, options)
        return prg

    def program(self, source: str):
        """Build (or fetch) one program from its source text (tests, library kernels)."""
        with self._lock:
            return self._get(source, 1)

    def _from_disk(self, source: str, options: str):
        if not self.binary_cache:
            return None
        key = options + "\n" + source
        binary = self.disk.get(key)
        if binary is None:
            return None
        start = time.perf_counter()
        try:
            prg = self.cl.Program(self.context, [self.info.cl_device], [binary])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prg.build(options=options, devices=[self.info.cl_device])
        except Exception:  # noqa: BLE001 -- a stale or foreign binary: rebuild from source
            return None
        self.stats["disk_hits"] += 1
        self.stats["disk_seconds"] += time.perf_counter() - start
        return prg

    def _build(self, source: str, count: int, options: str):
        start = time.perf_counter()
        prg = None
        headers = self.headers
        if headers is not None:
            text = headers.header(source) + source
            try:
                prg = self._cl_build(text, f"{options} {headers.options}")
            except self.cl.Error as err:
                if not _missing_declaration(str(err)):
                    # The program itself is wrong (the log says so): no second build.
                    raise self._build_error(text, err) from None
                # Something the trimmed header lacks: the plain build below decides
                # (it raises if the program is wrong after all; else builds stay plain).
                self.stats["header_fallbacks"] += 1
                prg = None
        if prg is None:
            try:
                prg = self._cl_build(source, options)
            except self.cl.Error as err:
                raise self._build_error(source, err) from None
            if headers is not None:
                self.headers = None
        elapsed = time.perf_counter() - start
        self.stats["programs"] += 1
        self.stats["kernels"] += count
        self.stats["build_seconds"] += elapsed
        self.stats["max_build_seconds"] = max(self.stats["max_build_seconds"], elapsed)
        if not self.binary_cache:
            return prg
        try:
            binaries = prg.binaries
            if binaries and binaries[0]:
                self.disk.put(options + "\n" + source, bytes(binaries[0]))
        except Exception:  # noqa: BLE001 -- caching is an optimisation, never an error
            pass
        return prg

    def _cl_build(self, source: str, options: str):
        with warnings.catch_warnings():
            # Compiler chatter (an empty log, notes) is not the user's concern; a
            # failure carries the whole log in its error.
            warnings.simplefilter("ignore")
            # cache_dir=False: plax's disk cache, not pyopencl's as well.
            return self.cl.Program(self.context, source).build(
                options=options, devices=[self.info.cl_device], cache_dir=False)

    def _build_error(self, source: str, err) -> BackendCompileError:
        log = _build_log(err)
        path = plax_dump.dump("cl", "rejected_program", source)
        where = (f"the source is in {path}" if path else
                 "set PLAX_DUMP=dir to write the source out")
        return BackendCompileError(
            f"backend 'opencl': {self.info.label} rejected a program "
            f"(driver {self.info.driver_version}); {where}.\nBuild log:\n{log.strip()}"
        )


# What a build says when a declaration is missing: then the trimmed header may be at
# fault (``pocl_headers``), and a plain build decides.
_DECLARATION_ERRORS = ("implicit declaration", "undeclared", "unknown type name",
                       "no matching function", "use of undeclared")


def _missing_declaration(log: str) -> bool:
    return any(marker in log for marker in _DECLARATION_ERRORS)


def _build_log(err) -> str:
    # pyopencl's build error carries the log in its message (and in .routine/.code);
    # keep the whole text, it is what the driver said.
    text = str(err)
    return text if text else repr(err)
