"""Running cases against a backend and deciding their status.

A ``Session`` holds the backend under test, its capability manifest and the caches
(traced reference programs, jitted functions, reference results shared by a case's eager
and jit modes). ``Session.run(case)`` returns an ``Outcome``:

* ``passed``: every sample the backend supports matches the reference (and the numpy
  oracle, where the row has one) within the row's tolerance;
* ``failed``: a sample raised, returned the wrong dtype or shape, or the wrong values;
* ``not_supported``: the case needs something outside the backend's manifest (the reason
  says what) -- a different status from failed;
* ``xfailed`` / ``xpassed``: a case named by the xfails file that failed / passed.
"""

from __future__ import annotations

import contextlib
import shlex
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

import plax
from plax import dispatch, dtypes
from plax.backend.registry import get_backend
from plax.tree_util import tree_leaves

from plax_conformance import execution
from plax_conformance.capabilities import (
    Manifest,
    jaxpr_dtypes,
    load_manifest_file,
    manifest_from_backend,
)
from plax_conformance.registry import Case
from plax_conformance.shrink import shrink
from plax_conformance.spec import Sample
from plax_conformance.tolerance import Comparison, compare

__all__ = ["Failure", "Outcome", "STATUSES", "Session"]

STATUSES = ("passed", "failed", "not_supported", "xfailed", "xpassed")

# Details (inputs, reproducer, minimal program) are kept for this many failing samples.
MAX_DETAILED_FAILURES = 3


@dataclass
class Failure:
    """One failing sample of a case."""

    sample: str
    kind: str  # exception | mismatch | dtype | shape | count | oracle | reference | placement
    message: str
    inputs: list = field(default_factory=list)
    against: str = "reference"
    output: int | None = None
    comparison: Comparison | None = None
    traceback: str = ""
    reproducer: str = ""
    minimal_program: dict | None = None

    def to_json(self) -> dict:
        out = {
            "sample": self.sample,
            "kind": self.kind,
            "message": self.message,
            "against": self.against,
            "inputs": self.inputs,
            "output": self.output,
            "max_abs_error": None,
            "max_ulp_error": None,
            "reproducer": self.reproducer,
            "minimal_program": self.minimal_program,
            "traceback": self.traceback or None,
        }
        if self.comparison is not None:
            detail = self.comparison.to_json()
            out["max_abs_error"] = detail.pop("max_abs_error")
            out["max_ulp_error"] = detail.pop("max_ulp_error")
            out["comparison"] = detail
        return out


@dataclass
class Outcome:
    case: Case
    status: str
    reason: str = ""
    failures: list = field(default_factory=list)
    samples_run: int = 0
    samples_not_supported: int = 0
    duration: float = 0.0
    xfail_reason: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def summary_line(self) -> str:
        if self.status == "not_supported":
            return f"{self.case.id}: not supported: {self.reason}"
        if self.failures:
            return f"{self.case.id}: {self.status}: {self.failures[0].message}"
        return f"{self.case.id}: {self.status}"


@dataclass
class _Reference:
    """What the reference computed for one sample (shared by the eager and jit cases)."""

    inputs: execution.Inputs
    closed: object = None
    expected: list | None = None
    oracle: list | None = None
    error: Failure | None = None


class Session:
    """The backend under test and everything cached while its cases run."""

    def __init__(self, backend: str, capabilities_file=None, xfails=None,
                 do_shrink: bool = True):
        self.backend_name = backend
        self.backend = get_backend(backend)  # BackendError: unknown / unavailable / broken
        self.device = self.backend.devices()[0]
        if capabilities_file is not None:
            self.manifest: Manifest = load_manifest_file(capabilities_file)
        else:
            self.manifest = manifest_from_backend(self.backend)
        self.capabilities_file = capabilities_file
        self.xfails = xfails
        self.do_shrink = do_shrink
        self._jit_cache: dict = {}
        self._ref_cache: dict = {}
        self._references: dict = {}
        self._references_owner = None
        self._current_row = None

    # -- public ------------------------------------------------------------------
    def run(self, case: Case, sample_label: str | None = None) -> Outcome:
        if case.row.name != self._current_row:
            self._next_row(case.row.name)
        start = time.perf_counter()
        # Values a case creates without operands (iota, constants) go to the default
        # backend: make that the backend under test, as PLAX_BACKEND=NAME would.
        with _default_backend(self.backend_name):
            outcome = self._run(case, sample_label)
        outcome.duration = time.perf_counter() - start
        return self._apply_xfail(outcome)

    def _next_row(self, name: str) -> None:
        """A row's cases run together; what was compiled for the previous row is not needed
        again. Dropping it keeps memory flat over the ~10,000 cases (and the garbage
        collector fast); backends keep their own kernel caches."""
        self._current_row = name
        self._jit_cache.clear()
        self._ref_cache.clear()
        dispatch.clear_caches()

    def reproducer(self, case: Case, sample: str | None = None) -> str:
        words = ["plax-conformance", "run", "--backend", self.backend_name, "--case", case.id]
        if sample:
            words += ["--sample", sample]
        if self.capabilities_file is not None:
            words += ["--capabilities", str(self.capabilities_file)]
        return " ".join(shlex.quote(w) for w in words)

    # -- one case ------------------------------------------------------------------
    def _run(self, case: Case, sample_label: str | None) -> Outcome:
        reason = self.manifest.dtype_reason(case.dtypes)
        if reason:
            return Outcome(case, "not_supported", reason)
        samples = list(case.row.samples)
        specials = execution.specials_sample(case)
        if specials is not None:
            samples.append(specials)
        if sample_label is not None:
            samples = [s for s in samples if s.label == sample_label]
        outcome = Outcome(case, "passed")
        unsupported_reasons = []
        with _x64(any(d.itemsize == 8 for d in case.dtypes)):
            for sample in samples:
                failure, unsupported = self._run_sample(case, sample, outcome)
                if unsupported:
                    outcome.samples_not_supported += 1
                    unsupported_reasons.append(unsupported)
                    continue
                outcome.samples_run += 1
                if failure is not None:
                    outcome.failures.append(failure)
        if outcome.failures:
            outcome.status = "failed"
            first = outcome.failures[0]
            outcome.reason = f"[{first.sample}] {first.message}"
        elif outcome.samples_run == 0:
            outcome.status = "not_supported"
            outcome.reason = unsupported_reasons[0] if unsupported_reasons else \
                "no sample of this case applies"
        return outcome

    def _reference(self, case: Case, sample: Sample) -> _Reference:
        # The eager and jit cases of a (row, dtype, params) run back to back: share the
        # inputs, the traced program and the reference results between them.
        if self._references_owner != case.base_id:
            self._references = {}
            self._references_owner = case.base_id
        ref = self._references.get(sample.label)
        if ref is None:
            ref = self._compute_reference(case, sample)
            self._references[sample.label] = ref
        return ref

    def _compute_reference(self, case: Case, sample: Sample) -> _Reference:
        inputs = execution.make_inputs(case, sample)
        if self.manifest.flush_denormals:
            inputs = _flush_inputs(inputs)
        ref = _Reference(inputs)
        described = _describe_inputs(inputs)
        fn_key = _function_key(case, inputs)
        try:
            f = execution.case_function(case, inputs.layouts)
            ref.closed = execution.reference_jaxpr(f, inputs.base, self._ref_cache, fn_key)
            ref.expected = execution.evaluate_reference(ref.closed, inputs.base)
        except Exception as err:  # noqa: BLE001 -- a plax or suite bug, reported as such
            ref.error = Failure(
                sample.label, "reference",
                f"the reference could not run this case ({type(err).__name__}: {err}); "
                "this is a bug in plax or in the suite, not in the backend",
                described, traceback=_short_traceback(err))
            return ref
        if case.row.numpy is not None:
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    raw = case.row.numpy(*inputs.logical, **case.call_params)
                ref.oracle = [np.asarray(x) for x in tree_leaves(raw)]
            except Exception as err:  # noqa: BLE001
                ref.error = Failure(sample.label, "reference",
                                    f"the numpy oracle raised {type(err).__name__}: {err}",
                                    described, against="numpy",
                                    traceback=_short_traceback(err))
        return ref

    def _run_sample(self, case: Case, sample: Sample, outcome: Outcome):
        """Returns (failure or None, not-supported reason or None)."""
        ref = self._reference(case, sample)
        inputs = ref.inputs
        size_reason = self.manifest.size_reason(inputs.base + (ref.expected or []))
        if size_reason:
            return None, size_reason
        if ref.closed is not None:
            reason = self.manifest.dtype_reason(jaxpr_dtypes(ref.closed), "inside its program")
            if reason:
                return None, reason
        if ref.error is not None:
            return ref.error, None
        described = _describe_inputs(inputs)
        fn_key = _function_key(case, inputs)
        detailed = len(outcome.failures) < MAX_DETAILED_FAILURES
        try:
            f = execution.case_function(case, inputs.layouts)
            results = execution.run_function(f, inputs.base, self.backend_name, self.device,
                                             case.mode, self._jit_cache, fn_key)
        except Exception as err:  # noqa: BLE001 -- the backend failed this sample
            failure = Failure(sample.label, "exception",
                              f"{case.mode} execution raised {type(err).__name__}: {err}",
                              described, traceback=_short_traceback(err))
            return self._detail(failure, case, sample, ref, detailed), None
        failure = self._check_results(case, sample, ref, results, described)
        if failure is not None:
            failure = self._detail(failure, case, sample, ref, detailed)
        return failure, None

    def _check_results(self, case, sample, ref, results, described) -> Failure | None:
        expected = ref.expected
        label = sample.label
        if len(results) != len(expected):
            return Failure(label, "count", f"returned {len(results)} outputs, the reference "
                           f"{len(expected)}", described)
        policy = case.row.tol
        for index, ((actual, leaf), want) in enumerate(zip(results, expected)):
            if leaf is None:
                # A Python scalar the function returned as it is: nothing ran on the backend.
                actual = np.asarray(actual).astype(want.dtype)
            elif leaf.device.backend_name != self.backend_name:
                return Failure(label, "placement", f"output {index} was computed on "
                               f"{leaf.device!r}, not on backend {self.backend_name!r}",
                               described, output=index)
            if actual.dtype != want.dtype:
                return Failure(label, "dtype", f"output {index} has dtype {actual.dtype.name}, "
                               f"the reference {want.dtype.name}", described, output=index)
            if actual.shape != want.shape:
                return Failure(label, "shape", f"output {index} has shape {actual.shape}, the "
                               f"reference {want.shape}", described, output=index)
            if self.manifest.flush_denormals:
                actual, want = _flush(actual), _flush(want)
            tol = policy.for_dtype(want.dtype)
            result = compare(want, actual, tol)
            if not result.ok:
                return Failure(label, "mismatch",
                               f"output {index} ({want.dtype.name}{list(want.shape)}) differs "
                               f"from the reference beyond {tol.describe()}: {result.message}",
                               described, output=index, comparison=result)
        if ref.oracle is not None:
            return self._check_oracle(case, label, ref, results, described)
        return None

    def _check_oracle(self, case, label, ref, results, described) -> Failure | None:
        if len(ref.oracle) != len(results):
            return Failure(label, "oracle", f"the numpy oracle returned {len(ref.oracle)} "
                           f"outputs, the program {len(results)} (a suite bug)", described,
                           against="numpy")
        for index, ((actual, _), want) in enumerate(zip(results, ref.oracle)):
            if want.shape != actual.shape:
                return Failure(label, "oracle", f"the numpy oracle's output {index} has shape "
                               f"{want.shape}, the result {actual.shape}", described,
                               against="numpy", output=index)
            with np.errstate(all="ignore"):
                want = want.astype(actual.dtype)
            if self.manifest.flush_denormals:
                actual, want = _flush(actual), _flush(want)
            tol = case.row.tol.for_dtype(actual.dtype)
            result = compare(want, actual, tol)
            if not result.ok:
                return Failure(label, "mismatch",
                               f"output {index} ({actual.dtype.name}{list(actual.shape)}) "
                               f"differs from numpy beyond {tol.describe()}: {result.message}",
                               described, against="numpy", output=index, comparison=result)
        return None

    def _detail(self, failure: Failure, case, sample, ref, detailed: bool) -> Failure:
        if not detailed:
            failure.traceback = ""
            return failure
        failure.reproducer = self.reproducer(case, sample.label)
        if self.do_shrink and failure.against == "reference" and ref.closed is not None:
            failure.minimal_program = self._minimal_program(case, ref)
        return failure

    # -- shrinking -------------------------------------------------------------------
    def _minimal_program(self, case: Case, ref: _Reference) -> dict | None:
        policy = case.row.tol
        device = self.device
        flush = self.manifest.flush_denormals

        def check(closed, values):
            with np.errstate(all="ignore"):
                want = execution.evaluate_reference(closed, values)
            try:
                got = execution.run_jaxpr(closed, values, device, case.mode)
            except Exception as err:  # noqa: BLE001
                return f"raised {type(err).__name__}: {err}"
            for index, (w, g) in enumerate(zip(want, got)):
                if w.dtype != g.dtype or w.shape != g.shape:
                    return f"output {index} is {g.dtype.name}{list(g.shape)}, expected " \
                           f"{w.dtype.name}{list(w.shape)}"
                if flush:
                    w, g = _flush(w), _flush(g)
                result = compare(w, g, policy.for_dtype(w.dtype))
                if not result.ok:
                    return f"output {index}: {result.message}"
            return None

        try:
            with _x64(any(d.itemsize == 8 for d in case.dtypes)):
                result = shrink(ref.closed, list(ref.inputs.base), check)
        except Exception as err:  # noqa: BLE001 -- never let the shrinker hide the failure
            return {"error": f"the shrinker failed: {type(err).__name__}: {err}"}
        return None if result is None else result.to_json()

    # -- xfails ----------------------------------------------------------------------
    def _apply_xfail(self, outcome: Outcome) -> Outcome:
        if self.xfails is None:
            return outcome
        reason = self.xfails.reason_for(outcome.case.id)
        if reason is None:
            return outcome
        outcome.xfail_reason = reason
        if outcome.status == "failed":
            outcome.status = "xfailed"
        elif outcome.status == "passed":
            outcome.status = "xpassed"
            outcome.reason = ("listed in the xfails file but passed; remove it from "
                              f"{self.xfails.path}")
        return outcome


# ----------------------------------------------------------------------------
# Helpers.


@contextlib.contextmanager
def _x64(enabled: bool):
    """64-bit cases run with x64 on; the others in plax's default mode, as users run them."""
    previous = plax.config.read("enable_x64")
    if previous == enabled:
        yield
        return
    plax.config.update("enable_x64", enabled)
    try:
        yield
    finally:
        plax.config.update("enable_x64", previous)


@contextlib.contextmanager
def _default_backend(name: str):
    previous = plax.config.read("backend")
    if previous == name:
        yield
        return
    plax.config.update("backend", name)
    try:
        yield
    finally:
        plax.config.update("backend", previous)


def _function_key(case: Case, inputs: execution.Inputs) -> tuple:
    """What identifies a case's traced function (its jit cache holds one per signature)."""
    dtype = case.dtype if case.row.dtype_param else None
    return (case.row.name, case.label, inputs.layouts, dtype)


def _describe_inputs(inputs: execution.Inputs) -> list[dict]:
    return [{"shape": list(np.shape(x)), "dtype": np.asarray(x).dtype.name, "layout": lay}
            for x, lay in zip(inputs.logical, inputs.layouts)]


def _flush(x: np.ndarray) -> np.ndarray:
    """Denormals to (signed) zero, for backends that declare flush_denormals."""
    if not dtypes.is_float(x.dtype):
        return x
    tiny = float(dtypes.finfo(x.dtype).tiny)
    wide = x.astype(np.float64)
    small = (np.abs(wide) < tiny) & (wide != 0)
    return np.where(small, np.copysign(0.0, wide), wide).astype(x.dtype)


def _flush_inputs(inputs: execution.Inputs) -> execution.Inputs:
    return execution.Inputs([_flush(np.asarray(x)) for x in inputs.base],
                            [_flush(np.asarray(x)) for x in inputs.logical], inputs.layouts)


def _short_traceback(err: BaseException, limit: int = 12) -> str:
    lines = traceback.format_exception(type(err), err, err.__traceback__)
    text = "".join(lines).rstrip().splitlines()
    return "\n".join(text[-limit * 2:])
