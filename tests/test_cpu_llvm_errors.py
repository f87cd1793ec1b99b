"""A kernel LLVM rejects is an error naming the backend and the primitives, with
the generated code on disk; plax keeps working afterwards."""

import os

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import errors
from plax.backend import BackendSpec
from plax.backend.registry import register_backend, unregister_backend

pytest.importorskip("llvmlite")

from plax_cpu_llvm import codegen  # noqa: E402
from plax_cpu_llvm.backend import CpuLlvmBackend  # noqa: E402


@pytest.fixture
def fresh_backend():
    backend = CpuLlvmBackend(name="cpu_llvm_error_test", disk_cache=False)
    register_backend(BackendSpec("cpu_llvm_error_test", 0, load=lambda: backend))
    try:
        yield backend
    finally:
        unregister_backend("cpu_llvm_error_test")


@pytest.mark.parametrize("dump", [False, True])
def test_rejected_ir_is_a_clear_error_with_the_code_on_disk(fresh_backend, monkeypatch,
                                                            tmp_path, dump):
    if dump:
        monkeypatch.setenv("PLAX_DUMP", str(tmp_path))
    else:
        monkeypatch.delenv("PLAX_DUMP", raising=False)
    real_text = codegen.ModuleBuilder.text
    monkeypatch.setattr(codegen.ModuleBuilder, "text",
                        lambda self: real_text(self) + "\nthis is not LLVM IR\n")
    f = plax.jit(lambda x: pnp.sin(x) * 3.0, backend="cpu_llvm_error_test")
    with pytest.raises(errors.BackendCompileError) as info:
        f(np.ones(4, np.float32))
    message = str(info.value)
    assert "cpu_llvm" in message and "sin" in message and "mul" in message
    path = message.split("The generated code is in ")[1].split(";")[0]
    assert os.path.exists(path) and "this is not LLVM IR" in open(path).read()
    if dump:
        assert path.startswith(str(tmp_path))
    # The failure is not cached: once the code generator is fixed, the program runs.
    monkeypatch.setattr(codegen.ModuleBuilder, "text", real_text)
    np.testing.assert_allclose(np.asarray(f(np.ones(4, np.float32))), 3 * np.sin(1.0),
                               rtol=1e-6)


def test_codegen_failure_names_the_kernel(fresh_backend, monkeypatch):
    def broken(self, kernel, symbol):
        raise NotImplementedError("no emitter for this op")

    monkeypatch.setattr(codegen.ModuleBuilder, "add_kernel", broken)
    f = plax.jit(lambda x: pnp.exp(x) + 1.0, backend="cpu_llvm_error_test")
    with pytest.raises(errors.BackendCompileError, match=r"exp.*no emitter for this op"):
        f(np.ones(3, np.float32))
