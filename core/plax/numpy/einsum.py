"""einsum: subscripts parsed into labels, contracted pairwise with ``lax.dot_general``.

Plan, for ``einsum("ij,jk->ik", a, b)``:

1. Parse each operand's term into one label per axis; ``...`` becomes labels for the
   broadcast dimensions (right-aligned across operands). Without ``->`` the output
   is the ellipsis labels followed by the labels used once, alphabetically.
2. Per operand: a label repeated within the term takes the diagonal; a label no
   other term and not the output uses is summed away at once.
3. Contract left to right: labels shared by the running result and the next
   operand are contracted when nothing later needs them, else kept as batch
   dimensions of ``dot_general``.
4. Sum any label the output lacks and transpose into the output's order.

Size-1 dimensions broadcast against the same label's size elsewhere, as in numpy.
"""

from __future__ import annotations

import string

from plax import lax
from plax.numpy.creation import asarray
from plax.numpy.promotion import check_arraylike, promote_dtypes
from plax.numpy.util import shape_of

__all__ = ["einsum"]

_LETTERS = set(string.ascii_letters)


def _parse(subscripts: str, shapes) -> tuple[list[list[str]], list[str]]:
    """(labels of each operand, output labels); ellipsis dims get labels '0', '1', ..."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
        if "->" in output:
            raise ValueError(f"einsum: subscripts {subscripts!r} contain more than one '->'")
    else:
        inputs, output = subscripts, None
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts name {len(terms)} operands, but {len(shapes)} "
                         "were given")
    n_ellipsis = 0
    parsed = []
    for term, shape in zip(terms, shapes):
        labels = _term_labels(term, subscripts)
        if "..." in labels:
            explicit = len(labels) - 1
            n_ellipsis = max(n_ellipsis, len(shape) - explicit)
        if (len(labels) - ("..." in labels)) > len(shape) or (
            "..." not in labels and len(labels) != len(shape)
        ):
            raise ValueError(f"einsum: term {term!r} does not match an operand of shape {shape}")
        parsed.append(labels)
    ellipsis_labels = [str(i) for i in range(n_ellipsis)]
    expanded = []
    for labels, shape in zip(parsed, shapes):
        if "..." in labels:
            k = len(shape) - (len(labels) - 1)
            at = labels.index("...")
            labels = labels[:at] + ellipsis_labels[n_ellipsis - k:] + labels[at + 1:]
        expanded.append(labels)
    if output is None:
        counts: dict[str, int] = {}
        for labels in expanded:
            for label in labels:
                counts[label] = counts.get(label, 0) + 1
        singles = sorted(lb for lb, c in counts.items() if c == 1 and lb in _LETTERS)
        out_labels = ellipsis_labels + singles
    else:
        out_labels = _term_labels(output, subscripts)
        if "..." in out_labels:
            at = out_labels.index("...")
            out_labels = out_labels[:at] + ellipsis_labels + out_labels[at + 1:]
        elif ellipsis_labels:
            raise ValueError(
                f"einsum: the inputs of {subscripts!r} broadcast {len(ellipsis_labels)} "
                "dimension(s) with '...', so the output must contain '...' as well"
            )
        if len(set(out_labels)) != len(out_labels):
            raise ValueError(f"einsum: output subscript {output!r} repeats a label")
        used = {lb for labels in expanded for lb in labels}
        missing = [lb for lb in out_labels if lb not in used]
        if missing:
            raise ValueError(f"einsum: output label(s) {missing} do not appear in the inputs "
                             f"of {subscripts!r}")
    return expanded, out_labels


def _term_labels(term: str, subscripts: str) -> list[str]:
    labels = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            if "..." in labels:
                raise ValueError(f"einsum: a term of {subscripts!r} has more than one '...'")
            labels.append("...")
            i += 3
            continue
        if term[i] not in _LETTERS:
            raise ValueError(f"einsum: invalid character {term[i]!r} in subscripts "
                             f"{subscripts!r}; use letters and '...'")
        labels.append(term[i])
        i += 1
    return labels


def _take_diagonals(x, labels: list[str]):
    """Repeated labels within one operand select the diagonal."""
    from plax.numpy.manipulation import diagonal

    while len(set(labels)) != len(labels):
        label = next(lb for lb in labels if labels.count(lb) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        if shape_of(x)[first] != shape_of(x)[second]:
            raise ValueError(f"einsum: label {label!r} repeated with different sizes "
                             f"{shape_of(x)[first]} and {shape_of(x)[second]}")
        x = diagonal(x, 0, first, second)
        labels = [lb for i, lb in enumerate(labels) if i not in (first, second)] + [label]
    return x, labels


def _sum_labels(x, labels: list[str], drop: set):
    axes = tuple(i for i, lb in enumerate(labels) if lb in drop)
    if not axes:
        return x, labels
    return lax.reduce_sum(x, axes), [lb for lb in labels if lb not in drop]


def einsum(subscripts, *operands, out=None, optimize=None, precision=None,
           preferred_element_type=None):
    """Einstein summation over the operands (see the module docstring for the plan)."""
    if out is not None:
        raise NotImplementedError("einsum: the 'out' argument is not supported")
    if not isinstance(subscripts, str):
        raise NotImplementedError("einsum: only the string-subscripts form is supported, e.g. "
                                  "einsum('ij,jk->ik', a, b)")
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    check_arraylike("einsum", *operands)
    arrays = [asarray(x) for x in promote_dtypes(*operands)]
    terms, out_labels = _parse(subscripts, [shape_of(x) for x in arrays])
    sizes = _label_sizes(terms, arrays, subscripts)

    prepared = []
    for x, labels in zip(arrays, terms):
        x, labels = _take_diagonals(x, labels)
        x = _broadcast_ones(x, labels, sizes)
        prepared.append((x, labels))

    def needed_after(k: int) -> set:
        later = {lb for _, labels in prepared[k + 1:] for lb in labels}
        return later | set(out_labels)

    # Sum labels private to one operand before contracting.
    for k, (x, labels) in enumerate(prepared):
        others = {lb for j, (_, ls) in enumerate(prepared) if j != k for lb in ls}
        private = {lb for lb in labels if lb not in others and lb not in out_labels}
        prepared[k] = _sum_labels(x, labels, private)

    result, labels = prepared[0]
    for k in range(1, len(prepared)):
        rhs, rhs_labels = prepared[k]
        keep = needed_after(k)
        shared = [lb for lb in labels if lb in rhs_labels]
        contract = [lb for lb in shared if lb not in keep]
        batch = [lb for lb in shared if lb in keep]
        dims = (
            (tuple(labels.index(lb) for lb in contract),
             tuple(rhs_labels.index(lb) for lb in contract)),
            (tuple(labels.index(lb) for lb in batch),
             tuple(rhs_labels.index(lb) for lb in batch)),
        )
        result = lax.dot_general(result, rhs, dims, precision=precision,
                                 preferred_element_type=preferred_element_type)
        free_lhs = [lb for lb in labels if lb not in shared]
        free_rhs = [lb for lb in rhs_labels if lb not in shared]
        labels = batch + free_lhs + free_rhs

    result, labels = _sum_labels(result, labels, {lb for lb in labels if lb not in out_labels})
    perm = tuple(labels.index(lb) for lb in out_labels)
    if perm != tuple(range(len(perm))):
        result = lax.transpose(result, perm)
    if preferred_element_type is not None and len(prepared) == 1:
        result = lax.convert_element_type(result, preferred_element_type)
    return result


def _label_sizes(terms, arrays, subscripts: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for labels, x in zip(terms, arrays):
        for label, size in zip(labels, shape_of(x)):
            known = sizes.get(label, 1)
            if size != 1 and known != 1 and size != known:
                name = "a broadcast ('...') dimension" if label.isdigit() else repr(label)
                raise ValueError(f"einsum: size of label {name} differs between operands "
                                 f"({known} and {size}) in {subscripts!r}")
            sizes[label] = size if size != 1 else known  # size 0 must win over 1
    return sizes


def _broadcast_ones(x, labels, sizes):
    """Stretch size-1 dimensions to the size the label has elsewhere."""
    shape = shape_of(x)
    target = tuple(sizes[lb] for lb in labels)
    if target == shape:
        return x
    return lax.broadcast_in_dim(x, target, tuple(range(len(shape))))
