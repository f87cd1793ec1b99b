"""LLVM IR -> machine code for the host CPU, with caches.

``Compiler.compile(kernels)`` returns each kernel's entry address (a "kernel"
may also be any object with ``text()`` and ``emit(module_builder, symbol)``, such
as a native loop driver). Kernels are
looked up in an in-memory cache keyed by their IR text; the missing ones are
emitted into one LLVM module, optimised (``opt_level``; the default pipeline at
O3 vectorises loops for the host's vector width: AVX2/AVX-512 where present),
turned into an object file by a target machine for the host CPU name and
features, and linked into an ORC JIT (``LLJIT``) library with libm's symbols
imported. Object files are also kept on disk (``plax.lowering.disk_cache``)
under a key made of the module's kernels, the plax and llvmlite versions, the
CPU and its features, so a new process skips LLVM entirely.
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import threading

import llvmlite
import llvmlite.binding as llvm

from plax import __version__ as plax_version
from plax.errors import BackendCompileError
from plax.lowering import dump as plax_dump
from plax.lowering.disk_cache import DiskCache
from plax.lowering.kernel_ir import Kernel

from plax_cpu_llvm import blas, codegen, llvm_types, mathlib, native_loops, ops

__all__ = ["Compiler", "host_target"]

_init_lock = threading.Lock()
_initialized = False


def _initialize():
    global _initialized
    with _init_lock:
        if not _initialized:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            _initialized = True


def _pack_entry(obj: bytes, imports) -> bytes:
    """A disk-cache entry: the symbols the object imports, then the object file."""
    return "\n".join(imports).encode() + b"\0" + obj


def _unpack_entry(entry: bytes):
    head, sep, obj = entry.partition(b"\0")
    if not sep:
        return None, None
    imports = [s for s in head.decode("ascii", "replace").split("\n") if s]
    return obj, imports


def _codegen_fingerprint() -> str:
    """A hash of the code generator's source: cached objects from another version of
    the backend's code are never reused."""
    digest = hashlib.sha256()
    for path in (codegen.__file__, ops.__file__, llvm_types.__file__, mathlib.__file__,
                 native_loops.__file__, __file__):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def host_target() -> tuple[str, str, str]:
    """(triple, cpu name, feature string) of this machine."""
    _initialize()
    triple = llvm.get_process_triple()
    cpu = llvm.get_host_cpu_name()
    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:  # some platforms cannot report features
        features = ""
    return triple, cpu, features


class Compiler:
    def __init__(self, opt_level: int = 3, abi: str = "pointers", offsets=(24, 16),
                 use_libmvec: bool = True, own_math: bool = True, disk_cache: bool = True):
        _initialize()
        self.triple, self.cpu, self.features = host_target()
        target = llvm.Target.from_triple(self.triple)
        self.tm = target.create_target_machine(
            cpu=self.cpu, features=self.features, opt=opt_level, reloc="pic",
            codemodel="default",
        )
        self.opt_level = opt_level
        self.abi = abi
        self.offsets = offsets
        self.own_math = own_math
        enabled = frozenset(f[1:] for f in self.features.split(",") if f.startswith("+"))
        self.feature_set = enabled
        self.vector_math = mathlib.libmvec_variants(enabled) if use_libmvec else {}
        self.lljit = llvm.create_lljit_compiler(self.tm)
        self.lock = threading.RLock()
        self.libraries: list = []  # ResourceTrackers keep JIT code alive
        self.addresses: dict[str, int] = {}  # kernel text -> entry address
        self.library_names = itertools.count()
        self.config_key = "|".join([
            f"plax={plax_version}", f"llvmlite={llvmlite.__version__}",
            f"llvm={'.'.join(map(str, llvm.llvm_version_info))}", self.triple, self.cpu,
            self.features, f"O{opt_level}", abi, repr(offsets),
            f"libmvec={sorted(self.vector_math)}",
            f"own_math={own_math}", f"codegen={_codegen_fingerprint()}",
        ])
        self.disk = DiskCache("cpu_llvm", self.config_key)
        if not disk_cache:
            self.disk.directory = None
        self.stats = {"memory_hits": 0, "disk_hits": 0, "compiled": 0}
        self._notes: dict = {}

    @property
    def has_f16c(self) -> bool:
        arch = self.triple.split("-")[0]
        if arch in ("x86_64", "i386", "i686"):
            return "f16c" in self.feature_set
        return True

    def info(self) -> dict:
        return {
            "llvm": ".".join(map(str, llvm.llvm_version_info)),
            "llvmlite": llvmlite.__version__,
            "cpu": self.cpu,
            "triple": self.triple,
            "vector_math": "libmvec" if self.vector_math else "none",
        }

    @staticmethod
    def symbol(kernel) -> str:
        return "plax_" + hashlib.sha256(kernel.text().encode()).hexdigest()[:20]

    def compile(self, kernels, name: str = "program", notes: dict | None = None) -> dict:
        """Entry addresses of ``kernels`` by kernel text (compiling what is missing).

        ``notes`` maps kernel texts to the primitives they compute, for errors: a
        module LLVM rejects raises ``BackendCompileError`` naming them, with the IR
        written to the dump directory (``PLAX_DUMP``, else a temporary one)."""
        with self.lock:
            self._notes = notes or {}
            out = {}
            missing = {}
            for k in kernels:
                text = k.text()
                addr = self.addresses.get(text)
                if addr is not None:
                    out[text] = addr
                    self.stats["memory_hits"] += 1
                elif text not in missing:
                    missing[text] = k
            if missing:
                out.update(self._build(list(missing.values()), name))
            return out

    def _build(self, kernels, name: str) -> dict:
        texts = sorted(k.text() for k in kernels)
        key = "\n\n".join(texts)
        symbols = {k.text(): self.symbol(k) for k in kernels}
        entry = self.disk.get(key)
        obj = imports = None
        if entry is not None:
            obj, imports = _unpack_entry(entry)
        if obj is not None:
            self.stats["disk_hits"] += 1
        else:
            obj, imports = self._object(kernels, symbols, name)
            self.disk.put(key, _pack_entry(obj, imports))
            self.stats["compiled"] += 1
        builder = llvm.JITLibraryBuilder().add_object_img(obj)
        table = self._import_addresses()
        if any(sym.startswith("plax.blas.") for sym in imports):
            table.update(blas.symbols()[0])
        for sym in imports:
            builder.import_symbol(sym, table[sym])
        for sym in symbols.values():
            builder.export_symbol(sym)
        tracker = builder.link(self.lljit, f"plax{next(self.library_names)}")
        self.libraries.append(tracker)
        out = {}
        for text, sym in symbols.items():
            addr = tracker[sym]
            self.addresses[text] = addr
            out[text] = addr
        return out

    def _import_addresses(self) -> dict:
        table = getattr(self, "_imports", None)
        if table is None:
            table = dict(mathlib.libm_symbols())
            for variants in self.vector_math.values():
                for _isa, _lanes, sym, addr in variants:
                    table[sym] = addr
            self._imports = table
        return table

    def _object(self, kernels, symbols: dict, name: str) -> bytes:
        text = ""
        try:
            mb = codegen.ModuleBuilder(name, abi=self.abi, offsets=self.offsets,
                                       vector_math=self.vector_math, own_math=self.own_math)
            for k in kernels:
                if isinstance(k, Kernel):
                    mb.add_kernel(k, symbols[k.text()])
                else:  # a generated driver (native_loops.NativeLoop) emits itself
                    k.emit(mb, symbols[k.text()])
            text = mb.text()
            return self._machine_code(text, name)
        except (RuntimeError, ValueError, TypeError, NotImplementedError, KeyError) as e:
            raise self._failure(e, kernels, text, name) from e

    def _failure(self, error, kernels, text: str, name: str) -> BackendCompileError:
        if not text:  # code generation itself failed: show the kernels instead
            text = "\n\n".join(k.text() for k in kernels)
        path = plax_dump.dump_failure("ll" if text.lstrip().startswith(";") else "txt",
                                      name, text)
        computes = sorted({self._notes.get(k.text(), "") for k in kernels} - {""})
        what = f" computing {'; '.join(computes)}" if computes else ""
        return BackendCompileError(
            f"backend 'cpu_llvm' could not compile {len(kernels)} kernel(s){what}: "
            f"{type(error).__name__}: {error}. The generated code is in {path}; "
            f"PLAX_BACKEND=reference runs the program without compiling it."
        )

    def _machine_code(self, text: str, name: str):
        plax_dump.dump("ll", f"{name}-before", text)
        mod = llvm.parse_assembly(text)
        mod.triple = self.tm.triple
        mod.data_layout = str(self.tm.target_data)
        mod.verify()
        pto = llvm.create_pipeline_tuning_options(speed_level=self.opt_level)
        pto.loop_vectorization = self.opt_level >= 2
        pto.slp_vectorization = self.opt_level >= 2
        # Unrolling (beyond the vectoriser's own interleaving) roughly doubled the
        # compile time of small kernels for no measurable run-time gain here.
        pto.loop_unrolling = False
        pb = llvm.create_pass_builder(self.tm, pto)
        pb.getModulePassManager().run(mod, pb)
        if plax_dump.enabled():
            plax_dump.dump("ll", f"{name}-after", str(mod))
            plax_dump.dump("s", name, self.tm.emit_assembly(mod))
        table = self._import_addresses()
        if any(f.name.startswith("plax.blas.") for f in mod.functions):
            table.update(blas.symbols()[0])  # looked up only when used
        imports = sorted(f.name for f in mod.functions if f.is_declaration and f.name in table)
        return self.tm.emit_object(mod), imports

    def function(self, address: int):
        """A ctypes function for an entry address (GIL released while it runs)."""
        arg = ctypes.py_object if self.abi == "pyobjects" else ctypes.c_void_p
        return ctypes.CFUNCTYPE(None, arg, ctypes.c_int64, ctypes.c_int64)(address)
