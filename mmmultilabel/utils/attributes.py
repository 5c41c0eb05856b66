"""Attribute groups and the fixed-width encoding shared by every module.

An instance carries one entry per attribute group. All groups of a data set
are encoded together in one integer row so that a single array follows the
instances through transforms, targets and predictions:

* a single-label group takes **one column** holding the value index, or
  ``-1`` when the value is unknown;
* a multi-label group takes **one column per value** holding ``1``
  (present) or ``0`` (absent); all its columns are ``-1`` when unknown.

The row width is :attr:`AttributeSpec.num_label_columns` (``D``). Scores use
one column per value of every group (:attr:`AttributeSpec.num_values`,
``S``): the probability of each value.

Example:
    >>> spec = AttributeSpec([
    ...     dict(name='color', values=['red', 'green']),
    ...     dict(name='pattern', values=['striped', 'dotted'],
    ...          multi_label=True)])
    >>> spec.encode({'color': 'green', 'pattern': ['dotted']})
    [1, 0, 1]
    >>> spec.encode({})
    [-1, -1, -1]
    >>> spec.decode([1, 0, 1])
    {'color': 'green', 'pattern': ['dotted']}
"""

from dataclasses import dataclass
from functools import cached_property
from typing import (
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import numpy as np

from .errors import AttributeSpecError

UNKNOWN = -1

# Groups read from annotation files, by path (see AttributeSpec).
_GROUPS_FROM_FILE: Dict[str, list] = {}
# Reads the groups an annotation file declares; the readers of the file
# forms live above this module (mmmultilabel.datasets.loader sets it).
_group_file_reader: Optional[Callable[[str], list]] = None


def set_group_file_reader(reader: Callable[[str], list]) -> None:
    """Set how ``AttributeSpec('file.json')`` reads a file's groups."""
    global _group_file_reader
    _group_file_reader = reader


AttrValue = Union[str, int, Sequence[Union[str, int]], None]


@dataclass(frozen=True)
class AttributeGroup:
    """One attribute group: a name, its ordered values, its kind and the
    categories it applies to (None: every category)."""

    name: str
    values: tuple
    multi_label: bool = False
    categories: Optional[tuple] = None

    def applies_to(self, category: str) -> bool:
        """Whether instances of the category (a name) have this group."""
        return self.categories is None or category in self.categories

    @property
    def num_values(self) -> int:
        return len(self.values)

    @cached_property
    def value_set(self) -> frozenset:
        """The value names, for membership tests."""
        return frozenset(self.values)

    def value_index(self, value: Union[str, int]) -> int:
        """Index of ``value`` given by name or by index.

        Raises:
            AttributeSpecError: if the value is not declared for this group.
        """
        if isinstance(value, bool):
            raise AttributeSpecError(
                f'group "{self.name}": value {value!r} is a boolean; give a '
                f'value name or an index in 0..{self.num_values - 1}'
            )
        if isinstance(value, int):
            if 0 <= value < self.num_values:
                return value
            raise AttributeSpecError(
                f'group "{self.name}": index {value} is out of range '
                f'0..{self.num_values - 1} (values: {list(self.values)})'
            )
        if isinstance(value, str) and value in self.values:
            return self.values.index(value)
        raise AttributeSpecError(
            f'group "{self.name}": undeclared value {value!r}; declared '
            f'values are {list(self.values)}'
        )


class AttributeSpec:
    """The attribute groups of a data set and their row encoding.

    Args:
        groups (Sequence[dict | AttributeGroup]): Groups in order, each a
            dict with ``name``, ``values``, optional ``multi_label``
            (default False) and optional ``categories`` (the category names
            the group applies to; default every category) as in the
            ``attribute_groups`` of the data set;
            or the path of an annotation file (any form that
            :func:`mmmultilabel.datasets.load_attr_coco` reads) whose groups
            are taken, so that a config need not repeat a long list.
    """

    def __init__(self, groups: Union[Iterable, str, None] = None) -> None:
        if isinstance(groups, str):
            groups = self._groups_from_file(groups)
        self.groups = tuple(self._to_group(g) for g in (groups or []))
        self._inapplicable: Dict[tuple, np.ndarray] = {}
        names = [g.name for g in self.groups]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise AttributeSpecError(f'attribute groups declared twice: {dup}')
        for g in self.groups:
            if g.num_values == 0:
                raise AttributeSpecError(
                    f'attribute group "{g.name}" declares no values'
                )
            if len(set(g.values)) != g.num_values:
                raise AttributeSpecError(
                    f'attribute group "{g.name}" repeats a value: '
                    f'{list(g.values)}'
                )

    @staticmethod
    def _groups_from_file(path: str) -> list:
        """``attribute_groups`` of an annotation file, read once per path."""
        if path not in _GROUPS_FROM_FILE:
            if _group_file_reader is None:
                raise AttributeSpecError(
                    f'attribute groups given as a file ({path}) need the '
                    'readers of mmmultilabel.datasets: import mmmultilabel '
                    "(or custom_imports=['mmmultilabel'] in a config)"
                )
            _GROUPS_FROM_FILE[path] = _group_file_reader(path)
        return _GROUPS_FROM_FILE[path]

    @staticmethod
    def _to_group(g) -> AttributeGroup:
        if isinstance(g, AttributeGroup):
            return g
        if not isinstance(g, Mapping) or 'name' not in g or 'values' not in g:
            raise AttributeSpecError(
                'each attribute group needs "name" and "values", e.g. '
                "dict(name='color', values=['red', 'green'], "
                f'multi_label=False); got {g!r}'
            )
        categories = g.get('categories')
        if categories is not None and (
            isinstance(categories, str)
            or not all(isinstance(c, str) for c in categories)
        ):
            raise AttributeSpecError(
                f'attribute group "{g["name"]}": "categories" must be a list '
                f'of category names, e.g. ["car", "bus"]; got {categories!r}'
            )
        return AttributeGroup(
            name=str(g['name']),
            values=tuple(str(v) for v in g['values']),
            multi_label=bool(g.get('multi_label', False)),
            categories=None if categories is None else tuple(categories),
        )

    # ------------------------------------------------------------------ layout
    def __repr__(self) -> str:
        return f'AttributeSpec({self.to_list()!r})'

    def __eq__(self, other) -> bool:
        return isinstance(other, AttributeSpec) and self.groups == other.groups

    def __copy__(self) -> 'AttributeSpec':
        return self

    def __deepcopy__(self, memo: dict) -> 'AttributeSpec':
        # A spec is never changed after construction: copies (e.g. the
        # deep copy of every InstanceData metainfo) can share it.
        return self

    def __len__(self) -> int:
        return len(self.groups)

    def __iter__(self):
        return iter(self.groups)

    @cached_property
    def names(self) -> List[str]:
        return [g.name for g in self.groups]

    def group(self, name: str) -> AttributeGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    @cached_property
    def num_label_columns(self) -> int:
        """Width ``D`` of an encoded label row."""
        return sum(g.num_values if g.multi_label else 1 for g in self.groups)

    @cached_property
    def num_values(self) -> int:
        """Width ``S`` of a score row: one column per value of every group."""
        return sum(g.num_values for g in self.groups)

    @cached_property
    def label_slices(self) -> Dict[str, slice]:
        """Columns of each group in a label row of width ``D``."""
        out, start = {}, 0
        for g in self.groups:
            width = g.num_values if g.multi_label else 1
            out[g.name] = slice(start, start + width)
            start += width
        return out

    @cached_property
    def score_slices(self) -> Dict[str, slice]:
        """Columns of each group in a score row of width ``S``."""
        out, start = {}, 0
        for g in self.groups:
            out[g.name] = slice(start, start + g.num_values)
            start += g.num_values
        return out

    def to_list(self) -> List[dict]:
        """Plain ``attribute_groups`` list, as stored in metainfo/JSON."""
        out = []
        for g in self.groups:
            out.append(
                dict(
                    name=g.name,
                    values=list(g.values),
                    multi_label=g.multi_label,
                )
            )
            if g.categories is not None:
                out[-1]['categories'] = list(g.categories)
        return out

    # ----------------------------------------------------------- applicability
    def inapplicable_columns(self, classes: Sequence[str]) -> np.ndarray:
        """Which label columns each class does not have.

        Args:
            classes (Sequence[str]): Class names, in label order.

        Returns:
            np.ndarray: Shape (C, D), bool: True where the group of the
            column does not apply to the class (its label is unknown).
        """
        classes = tuple(classes)
        cached = self._inapplicable.get(classes)
        if cached is None:
            cached = np.zeros((len(classes), self.num_label_columns), bool)
            for g, cols in zip(self.groups, self.label_slices.values()):
                for c, name in enumerate(classes):
                    cached[c, cols] = not g.applies_to(name)
            self._inapplicable[classes] = cached
        return cached

    def applicable_names(self, category: str) -> List[str]:
        """Names of the groups that apply to a category (a name)."""
        return [g.name for g in self.groups if g.applies_to(category)]

    # ---------------------------------------------------------------- encoding
    def encode(
        self, attributes: Optional[Mapping[str, AttrValue]]
    ) -> List[int]:
        """Encode ``{group: value}`` into a label row of width ``D``.

        Values may be names or indices; multi-label groups take a list.
        A group that is absent, or ``None``, is unknown (``-1``).

        Raises:
            AttributeSpecError: for an undeclared group or value.
        """
        runs = self.encode_runs(attributes)
        return expand_runs([runs], self.num_label_columns)[0].tolist()

    # ------------------------------------------------------- compact rows
    @cached_property
    def _value_columns(self) -> Dict[str, Dict[str, int]]:
        """Per group, value name -> index of the value (an index given
        as a number is read by :meth:`AttributeGroup.value_index`)."""
        return {
            g.name: {v: k for k, v in enumerate(g.values)} for g in self.groups
        }

    @cached_property
    def _run_layout(self) -> tuple:
        """Per group: the group, its first and last + 1 label column and
        its value -> index lookup (what :meth:`encode_runs` reads)."""
        return tuple(
            (g, sl.start, sl.stop, self._value_columns[g.name])
            for g, sl in zip(self.groups, self.label_slices.values())
        )

    def _index(self, group: AttributeGroup, value) -> int:
        try:
            return self._value_columns[group.name][value]
        except (KeyError, TypeError):
            return group.value_index(value)  # raises the full message

    def encode_runs(
        self,
        attributes: Optional[Mapping[str, AttrValue]],
        partial: Optional[Mapping[str, Sequence]] = None,
    ) -> tuple:
        """Encode like :meth:`encode`, compactly: ``(start, stop, value)``
        triples, flattened, that paint a row of zeros in order.

        A row of a data set with 294 multi-label values and 3 present
        values is 3 triples instead of 294 integers; what a DataLoader
        worker holds per instance stays small. :func:`expand_runs` gives
        the rows back.

        Args:
            attributes (Mapping, optional): ``{group: value}`` as
                :meth:`encode` takes it.
            partial (Mapping, optional): ``{group: [values]}`` of groups
                known only in part: the listed values are 1, the others
                unknown (-1).

        Returns:
            tuple[int]: ``(start, stop, value, start, stop, value, ...)``.

        Raises:
            AttributeSpecError: for an undeclared group or value.
        """
        attributes = attributes or {}
        # (a dict first: the ABC check costs more than the encoding)
        if type(attributes) is not dict and not isinstance(
            attributes, Mapping
        ):
            raise AttributeSpecError(
                '"attributes" must map group name to value, e.g. '
                f'{{"color": "red"}}; got {attributes!r}'
            )
        if not self.label_slices.keys() >= attributes.keys():
            unknown = [k for k in attributes if k not in self.names]
            raise AttributeSpecError(
                f'undeclared attribute group(s) {unknown}; declared groups '
                f'are {self.names}'
            )
        partial = partial or {}
        runs: List[int] = []
        for g, start, stop, lookup in self._run_layout:
            value = attributes.get(g.name)
            if value is None:
                runs += (start, stop, UNKNOWN)
                for v in partial.get(g.name) or ():
                    c = start + self._index(g, v)
                    runs += (c, c + 1, 1)
            elif not g.multi_label:
                if isinstance(value, (list, tuple)):
                    raise AttributeSpecError(
                        f'group "{g.name}" is single-label but got a list '
                        f'{list(value)}; give one value or declare the group '
                        'with "multi_label": true'
                    )
                index = self._index(g, value)
                if index:
                    runs += (start, stop, index)
            else:
                if not isinstance(value, (list, tuple)):
                    value = [value]
                for v in value:
                    try:  # _index inlined: runs for every value listed
                        c = start + lookup[v]
                    except (KeyError, TypeError):
                        c = start + g.value_index(v)  # raises the message
                    runs += (c, c + 1, 1)
        return tuple(runs)

    def decode(self, row: Sequence[int]) -> Dict[str, AttrValue]:
        """Inverse of :meth:`encode`; unknown groups are left out."""
        row = [int(v) for v in row]
        if len(row) != self.num_label_columns:
            raise AttributeSpecError(
                f'label row has {len(row)} columns, expected '
                f'{self.num_label_columns} for groups {self.names}'
            )
        out: Dict[str, AttrValue] = {}
        for g, chosen in self.chosen_indices(row):
            if chosen is not None:
                values = [g.values[k] for k in chosen]
                out[g.name] = values if g.multi_label else values[0]
        return out

    def chosen_indices(
        self, row: Sequence[int]
    ) -> List[Tuple[AttributeGroup, Optional[List[int]]]]:
        """Per group, in group order, the indices of the values that a
        label row of width ``D`` sets: the value of a single-label group,
        the present values of a multi-label group; None when unknown."""
        out = []
        for g, sl in zip(self.groups, self.label_slices.values()):
            cols = row[sl]
            if any(c == UNKNOWN for c in cols):
                out.append((g, None))
            elif g.multi_label:
                out.append((g, [k for k, c in enumerate(cols) if c == 1]))
            else:
                out.append((g, [cols[0]]))
        return out


def expand_runs(rows: Sequence[Sequence[int]], width: int) -> np.ndarray:
    """Label rows (N, D) from :meth:`AttributeSpec.encode_runs` output.

    Args:
        rows (Sequence[Sequence[int]]): One run tuple per instance:
            ``(start, stop, value, ...)`` painted in order over zeros.
        width (int): D, :attr:`AttributeSpec.num_label_columns`.

    Returns:
        np.ndarray: int64 array (N, D).
    """
    out = np.zeros((len(rows), width), dtype=np.int64)
    for i, runs in enumerate(rows):
        for k in range(0, len(runs), 3):
            out[i, runs[k] : runs[k + 1]] = runs[k + 2]
    return out
