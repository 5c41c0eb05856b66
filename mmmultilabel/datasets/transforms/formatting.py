"""Pack images and instances, attribute labels included."""

from typing import Optional

import numpy as np
from mmcv.transforms import to_tensor
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS

from .aligned_labels import AlignedLabels
from .loading import ATTR_KEY

# mmdet transforms known to rebuild the instance arrays by concatenation.
_CONCATENATING = 'Mosaic, CachedMosaic, MixUp, CachedMixUp or CopyPaste'


class AttrAlignmentError(RuntimeError):
    """Attribute rows that no longer match the instances they belong to."""


@TRANSFORMS.register_module()
class PackAttrDetInputs(PackDetInputs):
    """Pack the inputs as :class:`PackDetInputs`, with attribute labels.

    Sets ``data_sample.gt_instances.attr_labels``, a LongTensor (N, D)
    aligned with ``gt_instances.labels``, ``masks`` and ``bboxes`` after the
    ignore-flag filtering (ignored instances get theirs in
    ``data_sample.ignored_instances.attr_labels``). Without ground truth
    (test pipelines) it packs exactly as :class:`PackDetInputs`.

    Required Keys (besides those of :class:`PackDetInputs`):

    - gt_bboxes_labels (AlignedLabels, optional): from
      :class:`LoadAttrAnnotations`

    Raises:
        AttrAlignmentError: if the labels lost their attribute rows, i.e. a
            transform rebuilt the instances instead of indexing them.
    """

    def _take_attr_labels(self, results: dict) -> Optional[np.ndarray]:
        """Attribute rows (N, D) of the instances, or None if none exist."""
        labels = results.get('gt_bboxes_labels')
        if labels is None:
            return None
        extras = labels.extras if isinstance(labels, AlignedLabels) else None
        if extras is None or ATTR_KEY not in extras:
            if 'num_attr_columns' not in results and not isinstance(
                labels, AlignedLabels
            ):
                return None  # a data set without attributes
            raise AttrAlignmentError(
                f'{type(self).__name__} ({results.get("img_path")}): the '
                f'{len(labels)} instance labels have lost their attribute '
                'rows. Either the pipeline loads annotations with '
                'LoadAnnotations instead of LoadAttrAnnotations, or a '
                'transform after LoadAttrAnnotations rebuilt '
                '"gt_bboxes_labels" instead of indexing it (mmdet\'s '
                f'{_CONCATENATING} concatenate instances of several images '
                'and cannot carry attributes); remove that transform.'
            )
        attr = extras[ATTR_KEY]
        sizes = {'gt_bboxes_labels': len(labels), 'attribute rows': len(attr)}
        for key in ('gt_bboxes', 'gt_masks', 'gt_ignore_flags'):
            if results.get(key) is not None:
                sizes[key] = len(results[key])
        if len(set(sizes.values())) > 1:
            raise AttrAlignmentError(
                f'{type(self).__name__} ({results.get("img_path")}): '
                f'instance arrays of different lengths {sizes}; a transform '
                'dropped instances from some arrays only.'
            )
        return attr

    def transform(self, results: dict) -> dict:
        """Pack the data as :class:`PackDetInputs` plus ``attr_labels``.

        Args:
            results (dict): Result dict from the pipeline.

        Returns:
            dict: ``inputs`` (Tensor) and ``data_samples``
            (:obj:`DetDataSample`); with ground truth,
            ``data_samples.gt_instances.attr_labels`` is a LongTensor (N, D).
        """
        attr = self._take_attr_labels(results)
        if attr is None:
            return super().transform(results)
        results = dict(results)
        results['gt_bboxes_labels'] = results['gt_bboxes_labels'].plain()
        packed = super().transform(results)
        data_sample = packed['data_samples']
        if 'gt_ignore_flags' in results:
            ignore = np.asarray(results['gt_ignore_flags'], dtype=bool)
            data_sample.gt_instances.attr_labels = to_tensor(attr[~ignore])
            data_sample.ignored_instances.attr_labels = to_tensor(attr[ignore])
        else:
            data_sample.gt_instances.attr_labels = to_tensor(attr)
        return packed
