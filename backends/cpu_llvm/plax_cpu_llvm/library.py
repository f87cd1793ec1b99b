"""Library steps: primitives the backend runs itself instead of as kernels.

``dot_general`` goes to numpy's matmul (BLAS for float32/float64): the operands
are viewed as [batch, free, contract] @ [batch, contract, free] through
transposes and reshapes, which copy only when the layout requires it. Other
dtypes (integers, float16, bfloat16) use the reference rule, whose accumulation
types are the ones plax specifies.

Control flow (``while``, ``cond``, ``scan``): the body and condition jaxprs are
compiled by this backend once, when the enclosing program is. A ``while`` or
``scan`` whose programs qualify runs as one native call (``native_loops``);
otherwise it loops in Python around the compiled sub-programs, so each
iteration still runs fused kernels rather than the reference interpreter.

Each entry of ``FACTORIES`` takes the step and a ``compile(closed_jaxpr)``
callback (which also carries ``backend`` and ``parallel_work``) and returns
``run(*args) -> list of arrays``.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes
from plax.interpreters import reference
from plax.lax.linalg import batched_matmul_views

from plax_cpu_llvm import conv, native_loops
from plax_cpu_llvm.runtime import contiguous

__all__ = ["FACTORIES", "PRIMITIVES"]

_BLAS = (dtypes.float32, dtypes.float64)


# -- dot_general ------------------------------------------------------------------
def _dot_general(step, compile_jaxpr):
    params = step.params
    (out_aval,) = step.out_avals
    primitive = step.primitive

    def run(lhs, rhs):
        lhs = np.asarray(lhs)
        rhs = np.asarray(rhs)
        if not (lhs.dtype == rhs.dtype == out_aval.dtype and lhs.dtype in _BLAS):
            return reference.apply(primitive, [lhs, rhs], params, step.out_avals)
        a, c, out_shape = batched_matmul_views(lhs, rhs, params["dimension_numbers"])
        with np.errstate(all="ignore"):  # inf * 0 is NaN, as the reference computes it
            out = np.matmul(a, c).reshape(out_shape)
        return [contiguous(out)]

    return run


# -- while ------------------------------------------------------------------------
def _while(step, compile_jaxpr):
    params = step.params
    plans = [compile_jaxpr.plan(params[k]) for k in ("cond_jaxpr", "body_jaxpr")]
    native = native_loops.native_while(step, *plans, compile_jaxpr.backend,
                                       compile_jaxpr.parallel_work)
    if native is not None:
        return native
    cond = compile_jaxpr(params["cond_jaxpr"], plans[0])
    body = compile_jaxpr(params["body_jaxpr"], plans[1])
    n_cond = params["cond_nconsts"]
    n_body = params["body_nconsts"]

    def run(*args):
        args = [contiguous(a) for a in args]
        cond_consts = args[:n_cond]
        body_consts = args[n_cond:n_cond + n_body]
        carry = args[n_cond + n_body:]
        while True:
            (pred,) = cond.execute(cond_consts + carry)
            if not bool(pred):
                return carry
            carry = body.execute(body_consts + carry)

    return run


# -- cond -------------------------------------------------------------------------
def _cond(step, compile_jaxpr):
    branches = [compile_jaxpr(b) for b in step.params["branches"]]
    last = len(branches) - 1

    def run(index, *args):
        i = int(np.clip(int(index), 0, last))
        return branches[i].execute([contiguous(a) for a in args])

    return run


# -- scan -------------------------------------------------------------------------
def _scan(step, compile_jaxpr):
    params = step.params
    plan = compile_jaxpr.plan(params["jaxpr"])
    native = native_loops.native_scan(step, plan, compile_jaxpr.backend,
                                      compile_jaxpr.parallel_work)
    if native is not None:
        return native
    body = compile_jaxpr(params["jaxpr"], plan)
    length = params["length"]
    reverse = params["reverse"]
    num_consts = params["num_consts"]
    num_carry = params["num_carry"]
    y_avals = params["jaxpr"].out_avals[num_carry:]

    def run(*args):
        args = [contiguous(a) for a in args]
        consts = args[:num_consts]
        carry = args[num_consts:num_consts + num_carry]
        xs = args[num_consts + num_carry:]
        ys = [np.empty((length,) + a.shape, a.dtype) for a in y_avals]
        for i in (range(length - 1, -1, -1) if reverse else range(length)):
            # Slices along the leading axis of C-contiguous arrays are contiguous.
            outs = body.execute(consts + carry + [x[i, ...] for x in xs])
            carry = outs[:num_carry]
            for y, value in zip(ys, outs[num_carry:]):
                y[i] = value
        return carry + ys

    return run


FACTORIES = {"dot_general": _dot_general, "while": _while, "cond": _cond, "scan": _scan,
             "conv_general_dilated": conv.conv_general_dilated}
PRIMITIVES = frozenset(FACTORIES)
