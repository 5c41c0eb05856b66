"""Instance labels that carry per-instance side arrays through transforms.

mmdet's transforms drop, crop and reorder instances by indexing
``results['gt_bboxes_labels']`` with the same index as the boxes and masks
(RandomCrop, FilterAnnotations, MinIoURandomCrop, RandomShift,
RandomErasing, PackDetInputs' ignore filtering, ...), while geometric
transforms (flip, resize, pad) leave the labels alone. Storing the labels as
an :class:`AlignedLabels` array, which applies every index to its side
arrays as well, keeps per-instance data such as attribute rows aligned
through all of them without a subclass per transform.

A transform that rebuilds the labels instead of indexing them (e.g.
``np.concatenate`` in Mosaic, MixUp or CopyPaste) returns a plain array:
the side arrays are gone, which :class:`PackAttrDetInputs` detects.
"""

import copy
from typing import Any, Dict, Mapping, Optional

import numpy as np


class AlignedLabels(np.ndarray):
    """Int64 instance labels ``(N,)`` with side arrays ``(N, ...)``.

    Indexing the labels indexes every side array with the same index, so
    ``labels[keep].extras[k] == labels.extras[k][keep]``. Copies, deep
    copies and pickles keep the side arrays; any operation that changes the
    number of instances without indexing (reshape, concatenation) drops
    them (``extras`` is then None).

    Args:
        labels (array-like): Class labels of shape (N,).
        extras (Mapping[str, array-like]): Side arrays, each of shape
            (N, ...).

    Example:
        >>> labels = AlignedLabels([3, 1, 2], dict(attr=[[0], [1], [2]]))
        >>> kept = labels[np.array([True, False, True])]
        >>> kept.extras['attr'].tolist()
        [[0], [2]]
    """

    extras: Optional[Dict[str, np.ndarray]]

    def __new__(
        cls, labels: Any, extras: Mapping[str, Any]
    ) -> 'AlignedLabels':
        obj = np.array(labels, dtype=np.int64).reshape(-1).view(cls)
        obj.extras = {}
        for key, value in extras.items():
            value = np.asarray(value)
            if value.ndim == 0 or value.shape[0] != obj.shape[0]:
                raise ValueError(
                    f'side array "{key}" has shape {value.shape}; it needs '
                    f'one row per instance ({obj.shape[0]})'
                )
            obj.extras[key] = value
        return obj

    def __array_finalize__(self, obj: Optional[np.ndarray]) -> None:
        if obj is None:
            return
        extras = getattr(obj, 'extras', None)
        # Same-length copies/views keep the rows; anything else loses them.
        if (
            extras is not None
            and self.ndim == 1
            and getattr(obj, 'ndim', 0) == 1
            and self.shape[0] == obj.shape[0]
        ):
            self.extras = {k: v.copy() for k, v in extras.items()}
        else:
            self.extras = None

    def __getitem__(self, index: Any) -> Any:
        out = super().__getitem__(index)
        if isinstance(out, AlignedLabels):
            if out.ndim == 1 and self.extras is not None:
                out.extras = {k: v[index] for k, v in self.extras.items()}
            else:
                out.extras = None
        return out

    def __reduce__(self) -> tuple:
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.extras)

    def __setstate__(self, state: tuple) -> None:
        array_state, extras = state
        super().__setstate__(array_state)
        self.extras = extras

    def __deepcopy__(self, memo: dict) -> 'AlignedLabels':
        out = np.array(self, copy=True).view(AlignedLabels)
        out.extras = copy.deepcopy(self.extras, memo)
        return out

    def plain(self) -> np.ndarray:
        """The labels as a plain int64 ndarray of shape (N,)."""
        return np.asarray(self).view(np.ndarray)
