"""Load instance annotations together with their attribute labels."""

from mmdet.datasets.transforms import LoadAnnotations
from mmdet.registry import TRANSFORMS

from mmmultilabel.utils import expand_runs

from .aligned_labels import AlignedLabels

#: Side-array key of the attribute rows in :class:`AlignedLabels`.
ATTR_KEY = 'gt_attr_labels'


@TRANSFORMS.register_module()
class LoadAttrAnnotations(LoadAnnotations):
    """Load boxes, labels, masks and the attribute rows of each instance.

    Behaves as mmdet's :class:`LoadAnnotations` and, in addition, stores
    ``gt_bboxes_labels`` as :class:`AlignedLabels` carrying the attribute
    rows of shape (N, D) under the side key ``'gt_attr_labels'``, so that
    every mmdet transform that drops, crops or reorders instances keeps them
    aligned. :class:`PackAttrDetInputs` puts them on
    ``data_sample.gt_instances.attr_labels``.

    Required Keys (besides those of :class:`LoadAnnotations`):

    - instances

      - attr_runs (tuple[int]): attribute row of width D in the compact
        form of :meth:`AttributeSpec.encode_runs`, as written by
        :class:`AttrCocoDataset`

    - num_attr_columns (int): D

    Modified Keys:

    - gt_bboxes_labels (AlignedLabels): labels (N,) with the attribute
      rows (N, D) in ``extras['gt_attr_labels']``

    Args:
        **kwargs: Arguments of :class:`LoadAnnotations`; ``with_label``
            must stay True because the rows travel with the labels.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if not self.with_label:
            raise ValueError(
                'LoadAttrAnnotations needs with_label=True: the attribute '
                'rows travel with the instance labels'
            )

    def _load_labels(self, results: dict) -> None:
        """Load labels (N,) with the attribute rows (N, D) attached."""
        super()._load_labels(results)
        instances = results.get('instances', [])
        rows = []
        for i, instance in enumerate(instances):
            if 'attr_runs' not in instance:
                raise KeyError(
                    f'instance {i} of {results.get("img_path")} has no '
                    '"attr_runs": LoadAttrAnnotations needs a data set '
                    'that encodes attributes, such as AttrCocoDataset'
                )
            rows.append(instance['attr_runs'])
        width = results.get('num_attr_columns')
        if width is None:
            raise KeyError(
                f'{results.get("img_path")} has no "num_attr_columns": '
                'LoadAttrAnnotations needs a data set that encodes '
                'attributes, such as AttrCocoDataset'
            )
        attr = expand_runs(rows, width)
        results['gt_bboxes_labels'] = AlignedLabels(
            results['gt_bboxes_labels'], {ATTR_KEY: attr}
        )
