import collections

import pytest

from plax import tree_util as tu

Point = collections.namedtuple("Point", ["x", "y"])


@tu.register_pytree_node_class
class Box:
    def __init__(self, value, label):
        self.value = value
        self.label = label

    def tree_flatten(self):
        return [self.value], self.label

    @classmethod
    def tree_unflatten(cls, label, children):
        return cls(children[0], label)


TREES = [
    1,
    None,
    (1, 2),
    [1, (2, 3), {"b": 4, "a": 5}],
    {"z": [1, 2], "a": None},
    Point(1, (2, 3)),
    Box((1, 2), "lbl"),
    (),
    [[], {}],
]


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_flatten_unflatten_roundtrip(tree):
    leaves, treedef = tu.tree_flatten(tree)
    rebuilt = tu.tree_unflatten(treedef, leaves)
    assert tu.tree_structure(rebuilt) == treedef
    assert tu.tree_leaves(rebuilt) == leaves


def test_dict_leaves_are_sorted_by_key():
    assert tu.tree_leaves({"b": 1, "a": 2}) == [2, 1]


def test_none_is_an_empty_node():
    assert tu.tree_leaves([None, 1]) == [1]


def test_treedefs_are_hashable_and_compare_by_structure():
    assert hash(tu.tree_structure((1, [2]))) == hash(tu.tree_structure((3, [4])))
    assert tu.tree_structure((1, [2])) != tu.tree_structure((1, (2,)))


def test_tree_map_multiple_trees():
    assert tu.tree_map(lambda a, b: a + b, (1, {"k": 2}), (10, {"k": 20})) == (11, {"k": 22})


def test_tree_map_structure_mismatch_names_both():
    with pytest.raises(ValueError, match="structures differ"):
        tu.tree_map(lambda a, b: a, (1, 2), [1, 2])


def test_unflatten_wrong_leaf_count():
    treedef = tu.tree_structure((1, 2))
    with pytest.raises(ValueError, match="3 leaves for a tree of 2"):
        tu.tree_unflatten(treedef, [1, 2, 3])


def test_custom_node_and_namedtuple_rebuild():
    out = tu.tree_map(lambda v: v * 2, [Point(1, 2), Box(3, "t")])
    assert out[0] == Point(2, 4)
    assert out[1].value == 6 and out[1].label == "t"


def test_is_leaf_stops_descent():
    leaves = tu.tree_leaves([(1, 2), (3, 4)], is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), (3, 4)]


def test_partial_is_a_pytree():
    p = tu.Partial(lambda a, b: a + b, 1)
    leaves, treedef = tu.tree_flatten(p)
    assert leaves == [1]
    assert tu.tree_unflatten(treedef, [5])(2) == 7
