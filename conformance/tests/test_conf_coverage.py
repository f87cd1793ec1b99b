"""Every primitive the core defines has a row in the conformance registry.

Adding a primitive (an entry in ``plax.core.abstract_eval_rules``) without a row fails
here: add a row to the ``plax_conformance.rows`` module of its family. Primitives that
are only tested indirectly are listed in ``INDIRECT`` with the reason.
"""

import plax
from plax import core
from plax.jaxpr import ClosedJaxpr, subjaxprs
from plax_conformance import execution
from plax_conformance.registry import cases_for, rows

# Primitives without a row of their own, and why that is enough.
INDIRECT = {
    "jit": "a call primitive: every jit-mode case and every program row runs through it "
           "(nested jit shows up when a plax.numpy function is itself jitted)",
    "custom_lin": "internal to reverse-mode differentiation of custom_vjp functions: it is "
                  "transposed away before a program reaches a backend; the "
                  "transform.grad_of_custom_vjp rows run what it becomes",
}


def _covered() -> dict[str, list[str]]:
    covered: dict[str, list[str]] = {}
    for row in rows():
        if row.missing():
            continue
        for name in row.primitives:
            covered.setdefault(name, []).append(row.name)
    return covered


def _plax_primitives() -> set[str]:
    """Primitives plax itself defines. Tests running in the same process may define
    their own; their rules live outside the ``plax`` package."""
    return {
        p.name
        for p, rule in core.abstract_eval_rules.items()
        if getattr(rule, "__module__", "").split(".")[0] == "plax"
    }


def test_every_primitive_has_a_row():
    defined = _plax_primitives()
    covered = _covered()
    missing = sorted(defined - set(covered) - set(INDIRECT))
    assert not missing, (
        f"primitives without a conformance row: {missing}. Add a row for each to "
        "conformance/plax_conformance/rows/ (see docs/conformance.md, 'Adding a row'), or, "
        "if it is only tested through other rows, to INDIRECT in this file with the reason."
    )


def test_allow_list_names_real_primitives():
    defined = _plax_primitives()
    assert set(INDIRECT) <= defined


def _primitives_in(jaxpr) -> set[str]:
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for sub in subjaxprs(eqn.params):
            names |= _primitives_in(sub.jaxpr if isinstance(sub, ClosedJaxpr) else sub)
    return names


def _traced_primitives(case) -> set[str]:
    sample = case.row.samples[0]
    previous = plax.config.read("enable_x64")
    plax.config.update("enable_x64", any(d.itemsize == 8 for d in case.dtypes))
    try:
        inputs = execution.make_inputs(case, sample)
        f = execution.case_function(case, inputs.layouts)
        return _primitives_in(plax.make_jaxpr(f)(*inputs.base).jaxpr)
    finally:
        plax.config.update("enable_x64", previous)


def test_rows_exercise_the_primitives_they_claim():
    wrong = []
    for row in rows():
        if row.missing() or not row.primitives:
            continue
        # Some cases are no-ops (a conversion to the same dtype); one case must trace to
        # the primitives the row claims.
        seen: set[str] = set()
        for case in cases_for(row)[::len(row.modes)][:20]:
            seen |= _traced_primitives(case)
            if set(row.primitives) <= seen:
                break
        else:
            wrong.append(f"{row.name}: claims {row.primitives}, traces to {sorted(seen)}")
    assert not wrong, "\n".join(wrong)
