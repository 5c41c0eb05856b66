"""MaskFormer fusion head that adds attributes to the predicted instances."""

from typing import Optional, Sequence, Tuple

import torch.nn.functional as F
from mmdet.models.seg_heads.panoptic_fusion_heads import MaskFormerFusionHead
from mmdet.registry import MODELS
from mmdet.structures.mask import mask2bbox
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from ..utils import (
    AttrThrs,
    attr_group_thrs,
    build_attr_spec,
    decode_attr_logits,
    split_class_attr_logits,
)

SCORE_MODES = ('class', 'class_attr')


@MODELS.register_module()
class AttrMaskFormerFusionHead(MaskFormerFusionHead):
    """Instance predictions with attributes from the query that made them.

    Decodes the logits of
    :class:`~mmmultilabel.models.AttrMask2FormerHead`, whose ``mask_cls``
    is the class logits followed by the attribute logits, shape
    (num_queries, num_classes + 1 + A). Instance results
    (``test_cfg.instance_on``) get, besides mmdet's ``labels``, ``scores``,
    ``masks`` and ``bboxes``:

    - ``attr_labels`` (LongTensor): Shape (num_instances, D), the label
      encoding of :class:`~mmmultilabel.utils.AttributeSpec`. Single-label
      group: the most probable value; multi-label group: 1 where the sigmoid
      is at least ``attr_value_thr``, else 0; -1 for a group judged unknown
      (see ``attr_unknown_thrs``).
    - ``attr_scores`` (FloatTensor): Shape (num_instances, S), the
      probability of every value of every group, columns as
      ``AttributeSpec.score_slices``: softmax over values and no-object slot
      with the no-object column dropped (single-label), sigmoid
      (multi-label).

    Top-k runs over queries x classes, so one query can give several
    instances; each instance takes the attributes of its query. Panoptic
    results use the class logits only.

    Args:
        num_things_classes (int): Number of thing classes.
        num_stuff_classes (int): Number of stuff classes.
        attribute_groups (Sequence[dict], optional): The attribute groups,
            as given to the head. Defaults to None (none).
        score_mode (str): Score that ranks the instances (top-k) and is
            reported in ``scores`` (times the mask score, as mmdet):
            ``'class'`` (default) the class probability; ``'class_attr'`` the
            class probability times the attribute confidence of the query,
            the geometric mean over groups of the group confidence: the
            largest value probability (single-label) or the mean over values
            of ``max(p, 1 - p)`` (multi-label).
        attr_value_thr (float): Sigmoid threshold of multi-label values.
            Defaults to 0.5.
        attr_unknown_thrs (float | dict[str, float], optional): Threshold
            of every group, or ``{group: thr}`` of some, in [0, 1]. A listed
            group is unknown (-1) by the rule of the inferencer's
            ``attr_thr`` (single-label: its value's probability is below
            ``thr``; multi-label: one of its values has a probability
            strictly between ``1 - thr`` and ``thr``), and a listed
            single-label group also when its no-object slot is more
            probable than its most probable value (see
            :func:`~mmmultilabel.models.utils.mark_unknown_attrs`). Unlisted
            groups are never unknown. Defaults to None.
        test_cfg (:obj:`ConfigDict` or dict, optional): As mmdet's.
        loss_panoptic (:obj:`ConfigDict` or dict, optional): Unused.
        init_cfg (:obj:`ConfigDict` or dict, optional): Init config.
    """

    def __init__(
        self,
        num_things_classes: int = 80,
        num_stuff_classes: int = 53,
        attribute_groups: Optional[Sequence[dict]] = None,
        score_mode: str = 'class',
        attr_value_thr: float = 0.5,
        attr_unknown_thrs: AttrThrs = None,
        test_cfg: OptConfigType = None,
        loss_panoptic: OptConfigType = None,
        init_cfg: OptMultiConfig = None,
        **kwargs,
    ) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=test_cfg,
            loss_panoptic=loss_panoptic,
            init_cfg=init_cfg,
            **kwargs,
        )
        if score_mode not in SCORE_MODES:
            raise ValueError(
                f'score_mode must be one of {SCORE_MODES}, got '
                f'{score_mode!r}'
            )
        self.attr_spec = build_attr_spec(
            attribute_groups, 'AttrMaskFormerFusionHead'
        )
        self.score_mode = score_mode
        self.attr_value_thr = float(attr_value_thr)
        self.attr_unknown_thrs = attr_group_thrs(
            attr_unknown_thrs, self.attr_spec, 'attr_unknown_thrs'
        )

    def _split_logits(self, mask_cls: Tensor) -> Tuple[Tensor, Tensor]:
        """Split class logits (..., C + 1) from attribute logits (..., A)."""
        return split_class_attr_logits(
            mask_cls, self.num_classes, self.attr_spec
        )

    def decode_attributes(
        self, attr_logits: Tensor
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Attribute labels, scores and confidence of every query.

        See :func:`~mmmultilabel.models.utils.decode_attr_logits`.

        Args:
            attr_logits (Tensor): Shape (num_queries, A).

        Returns:
            tuple[Tensor, Tensor, Tensor]:

            - attr_labels (Tensor): Shape (num_queries, D), long.
            - attr_scores (Tensor): Shape (num_queries, S).
            - attr_conf (Tensor): Shape (num_queries, ), the geometric mean
              over groups of the group confidence (1 without groups).
        """
        return decode_attr_logits(
            attr_logits,
            self.attr_spec,
            self.attr_value_thr,
            self.attr_unknown_thrs,
        )

    def panoptic_postprocess(
        self, mask_cls: Tensor, mask_pred: Tensor
    ) -> PixelData:
        """Panoptic segmentation from the class logits.

        Args:
            mask_cls (Tensor): Shape (num_queries, num_classes + 1 + A).
            mask_pred (Tensor): Mask logits of shape (num_queries, h, w).

        Returns:
            :obj:`PixelData`: As the parent.
        """
        cls_logits, _ = self._split_logits(mask_cls)
        return super().panoptic_postprocess(cls_logits, mask_pred)

    def instance_postprocess(
        self, mask_cls: Tensor, mask_pred: Tensor
    ) -> InstanceData:
        """Instance segmentation with attributes.

        Args:
            mask_cls (Tensor): Shape (num_queries, num_classes + 1 + A).
            mask_pred (Tensor): Mask logits of shape (num_queries, h, w).

        Returns:
            :obj:`InstanceData`: ``bboxes`` (n, 4), ``labels`` (n, ),
            ``scores`` (n, ), ``masks`` (n, h, w), ``attr_labels`` (n, D)
            and ``attr_scores`` (n, S).
        """
        cls_logits, attr_logits = self._split_logits(mask_cls)
        attr_labels, attr_scores, attr_conf = self.decode_attributes(
            attr_logits
        )
        max_per_image = self.test_cfg.get('max_per_image', 100)
        # (Q, C + 1) -> (Q, C)
        scores = F.softmax(cls_logits, dim=-1)[:, :-1]
        if self.score_mode == 'class_attr':
            # (Q, C) * (Q, 1)
            scores = scores * attr_conf[:, None]
        # (Q, C) -> (Q * C, )
        scores_per_image, top_indices = scores.flatten(0, 1).topk(
            min(max_per_image, scores.numel()), sorted=False
        )
        labels_per_image = top_indices % self.num_classes
        query_indices = top_indices // self.num_classes

        # extract things
        is_thing = labels_per_image < self.num_things_classes
        scores_per_image = scores_per_image[is_thing]
        labels_per_image = labels_per_image[is_thing]
        query_indices = query_indices[is_thing]
        mask_pred = mask_pred[query_indices]

        mask_pred_binary = (mask_pred > 0).float()
        # (n, h, w) -> (n, ): mean probability inside the binary mask
        mask_scores_per_image = (
            mask_pred.sigmoid() * mask_pred_binary
        ).flatten(1).sum(1) / (mask_pred_binary.flatten(1).sum(1) + 1e-6)
        mask_pred_binary = mask_pred_binary.bool()

        results = InstanceData()
        results.bboxes = mask2bbox(mask_pred_binary)
        results.labels = labels_per_image
        results.scores = scores_per_image * mask_scores_per_image
        results.masks = mask_pred_binary
        results.attr_labels = attr_labels[query_indices]
        results.attr_scores = attr_scores[query_indices]
        return results
