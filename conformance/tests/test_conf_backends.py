"""The whole suite against every in-tree backend this machine can run, at zero failures.

The reference backend always runs. Other in-tree backends (``DEFAULT``) run when they are
installed and available (opencl: when pyopencl finds a device, as PoCL gives CI);
``PLAX_CONFORMANCE_BACKENDS=reference,opencl`` chooses the list instead. A backend's known
failures, if any, are listed in ``backends/<name>/conformance-xfails.txt`` (every entry
must still name a real case).
"""

import os

import pytest

import plax
from plax_conformance.suite import open_session, run_suite, select_cases

# Run by default, each where it is available. opencl on PoCL (a 2-core CPU, cold caches)
# takes a few minutes: most of it is PoCL building and generating code for programs,
# which the backend keeps small and few (see plax_opencl.compiler and pocl_headers).
DEFAULT = ("reference", "cpu_llvm", "cuda", "opencl")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _available() -> list[str]:
    status = {b.name: b.available for b in plax.backends()}
    chosen = os.environ.get("PLAX_CONFORMANCE_BACKENDS")
    names = [n.strip() for n in chosen.split(",")] if chosen else DEFAULT
    return [name for name in names if status.get(name)]


@pytest.mark.parametrize("backend", _available())
def test_in_tree_backend_passes_the_whole_suite(backend):
    xfails = os.path.join(REPO, "backends", backend, "conformance-xfails.txt")
    session = open_session(backend, xfails_file=xfails if os.path.exists(xfails) else None)
    report = run_suite(session, select_cases("full"), "full")
    failed = [o.summary_line() for o in report.outcomes if o.status in ("failed", "xpassed")]
    assert not failed, f"{len(failed)} conformance failures on {backend!r}:\n" + "\n".join(
        failed[:50])
    if backend == "reference":
        # The reference declares every dtype: nothing may be "not supported", and it must
        # be conformant.
        assert report.counts()["not_supported"] == 0
        assert report.conformant() is True
