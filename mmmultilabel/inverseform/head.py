"""Attribute Mask2Former head with a boundary loss on the matched masks."""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType, reduce_mean
from torch import Tensor

from mmmultilabel.models.dense_heads.attr_mask2former_head import (
    AttrMask2FormerHead,
    name_layer_losses,
)


@MODELS.register_module()
class BoundaryAttrMask2FormerHead(AttrMask2FormerHead):
    """:class:`AttrMask2FormerHead` plus an optional boundary loss.

    ``loss_boundary`` (e.g. :class:`~mmmultilabel.inverseform.InverseFormLoss`)
    compares the mask logits of every matched query, upsampled to the
    ground-truth mask size, with its matched ground-truth mask, on every
    decoder layer like the mask and dice losses (keys ``<loss_name>`` and
    ``d{i}.<loss_name>``, ``loss_name`` being the loss's own, else
    ``loss_boundary``). The matching is the one the other losses of the
    layer use; with no match the loss is a zero in the autograd graph.
    Without ``loss_boundary`` the head is :class:`AttrMask2FormerHead`.

    Args:
        *args: Positional arguments of :class:`AttrMask2FormerHead`.
        loss_boundary (:obj:`ConfigDict` or dict, optional): A loss called
            as ``loss(mask_logits, gt_masks, avg_factor=num_masks)`` with
            mask logits of shape (n, 1, H, W) and 0/1 masks (n, H, W).
            Defaults to None (no boundary loss).
        **kwargs: Keyword arguments of :class:`AttrMask2FormerHead`.
    """

    def __init__(
        self, *args, loss_boundary: OptConfigType = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.loss_boundary = (
            MODELS.build(loss_boundary) if loss_boundary else None
        )

    @property
    def boundary_loss_name(self) -> str:
        """Key of the boundary loss in the loss dict."""
        return getattr(self.loss_boundary, 'loss_name', 'loss_boundary')

    def _loss_by_targets(
        self, cls_scores: Tensor, mask_preds: Tensor, targets: tuple, *args
    ) -> Tuple[Tensor]:
        """The parent's losses of one layer (arguments as its), then the
        boundary loss when ``loss_boundary`` is set."""
        losses = super()._loss_by_targets(
            cls_scores, mask_preds, targets, *args
        )
        if self.loss_boundary is None:
            return losses
        _, _, mask_targets_list, mask_weights_list, avg_factor = targets[:5]
        return losses + (
            self._loss_boundary_single(
                mask_preds, mask_targets_list, mask_weights_list, avg_factor
            ),
        )

    def _loss_boundary_single(
        self,
        mask_preds: Tensor,
        mask_targets_list: List[Tensor],
        mask_weights_list: List[Tensor],
        avg_factor: int,
    ) -> Tensor:
        """Boundary loss of the matched masks of one decoder layer.

        The number of matched masks is averaged over the ranks before the
        check for an empty match, as mmdet's Mask2Former does: every rank
        runs the same collective whether it has matches or not.

        Args:
            mask_preds (Tensor): Shape (batch_size, num_queries, h, w).
            mask_targets_list (list[Tensor]): Matched ground-truth masks per
                image, each (num_pos, H, W), in query order.
            mask_weights_list (list[Tensor]): Per image, (num_queries, ), 1
                for matched queries.
            avg_factor (int): Number of matched queries in the batch.

        Returns:
            Tensor: The loss, a scalar.
        """
        # B x (n_i, H, W) -> (n, H, W)
        mask_targets = torch.cat(mask_targets_list)
        # B x (Q, ) -> (B, Q)
        mask_weights = torch.stack(mask_weights_list)
        # (B, Q, h, w) -> (n, h, w), the order of mask_targets
        mask_preds = mask_preds[mask_weights > 0]
        # (1, ) -> (): mean over the ranks, at least 1 (no host sync)
        num_total_masks = (
            reduce_mean(mask_preds.new_tensor([avg_factor], dtype=torch.float))
            .clamp(min=1)
            .squeeze(0)
        )
        if mask_targets.shape[0] == 0:
            return mask_preds.sum() * 0
        # (n, h, w) -> (n, 1, H, W)
        mask_preds = F.interpolate(
            mask_preds.unsqueeze(1),
            size=mask_targets.shape[-2:],
            mode='bilinear',
            align_corners=False,
        )
        return self.loss_boundary(
            mask_preds, mask_targets, avg_factor=num_total_masks
        )

    def _name_layer_losses(self, losses: Sequence[List[Tensor]]) -> dict:
        """The parent's loss dict plus the boundary loss of every layer.

        Args:
            losses (Sequence[list[Tensor]]): Per loss of
                :meth:`_loss_by_targets`, its value on every decoder layer.

        Returns:
            dict[str, Tensor]: The parent's losses, then ``<loss_name>``
            (last layer) and ``d{i}.<loss_name>``.
        """
        if self.loss_boundary is None:
            return super()._name_layer_losses(losses)
        loss_dict = super()._name_layer_losses(losses[:-1])
        loss_dict.update(
            name_layer_losses([self.boundary_loss_name], losses[-1:])
        )
        return loss_dict
