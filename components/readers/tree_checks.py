"""Structural checks on the decision trees inside an unpickled model.

scikit-learn trusts a tree's arrays when it unpickles them: a child or feature
index out of range makes scoring read outside its memory and crash the whole
server. Every tree is checked before the model is used; a fitted tree always
passes, because scikit-learn numbers children after their parent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.tree._tree import Tree

LEAF = -1  # sklearn's marker for "no child"


class MalformedModelError(ValueError):
    """A tree in the model is not one scikit-learn could have fitted."""


def check_trees(estimator: Any, source: str) -> int:
    """Raise if any tree of ``estimator`` is malformed; return how many were
    checked."""
    trees = list(_trees_of(estimator))
    for index, tree in enumerate(trees):
        problem = _tree_problem(tree)
        if problem:
            raise MalformedModelError(
                f"'{source}' was refused: tree {index} {problem}")
    return len(trees)


def _trees_of(estimator: Any):
    tree = getattr(estimator, "tree_", None)
    if isinstance(tree, Tree):
        yield tree
    for member in getattr(estimator, "estimators_", None) or []:
        yield from _trees_of(member)


def _tree_problem(tree: Tree) -> str:
    count = tree.node_count
    left, right = tree.children_left, tree.children_right
    feature = tree.feature
    if not (len(left) == len(right) == len(feature) == count):
        return "has arrays of different lengths"
    nodes = np.arange(count)
    leaves = left == LEAF
    if not np.array_equal(leaves, right == LEAF):
        return "has a node with only one child"
    inner = ~leaves
    for children in (left[inner], right[inner]):
        if (children <= nodes[inner]).any() or (children >= count).any():
            return "points a node at a child outside the tree or above itself"
    if ((feature[inner] < 0) | (feature[inner] >= tree.n_features)).any():
        return f"splits on a feature outside its {tree.n_features}"
    return ""
