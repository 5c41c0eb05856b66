"""Mask2Former head with one classifier per attribute group."""

import copy
import logging
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.ops import point_sample
from mmdet.models.dense_heads import Mask2FormerHead
from mmdet.models.utils import multi_apply
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, InstanceList, OptConfigType
from mmengine.logging import print_log
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmmultilabel.utils import UNKNOWN, AttributeGroup, InputError

from ..losses.attr_group_losses import AttrGroupLosses
from ..losses.task_uncertainty import UncertaintyTaskWeights
from ..task_modules import AttrBinaryCrossEntropyCost, AttrClassificationCost
from ..task_modules.assigners.attribute_match_cost import AttrGroupsCost
from ..utils import (
    NUM_MASK_STATISTICS,
    attr_logit_channels,
    build_attr_spec,
    mask_input_options,
    mask_pooled_features,
    mask_statistics,
    scale_grad,
    split_class_attr_logits,
)


class MatchedGtInstances(list):
    """The ground truth of a batch with the targets of one decoder layer.

    A list of the images' :obj:`InstanceData` like ``batch_gt_instances``,
    which :meth:`AttrMask2FormerHead.get_targets` answers with ``targets``
    instead of matching the layer again.

    Args:
        batch_gt_instances (list[:obj:`InstanceData`]): Ground truth.
        targets (tuple): The layer's ``labels_list``, ``label_weights_list``,
            ``mask_targets_list``, ``mask_weights_list`` and ``avg_factor``.
    """

    def __init__(self, batch_gt_instances: InstanceList, targets: tuple):
        super().__init__(batch_gt_instances)
        self.targets = targets


def name_layer_losses(
    names: Sequence[str], losses: Sequence[List[Tensor]]
) -> Dict[str, Tensor]:
    """Name per-layer losses as mmdet's Mask2Former does.

    Args:
        names (Sequence[str]): Key of each loss on the last layer.
        losses (Sequence[list[Tensor]]): Per name, its value on every
            decoder layer, the last one last.

    Returns:
        dict[str, Tensor]: ``name`` for the last layer, then ``d{i}.name``
        for layer ``i`` of the others.
    """
    loss_dict = {name: per_layer[-1] for name, per_layer in zip(names, losses)}
    for i in range(len(losses[0]) - 1 if losses else 0):
        for name, per_layer in zip(names, losses):
            loss_dict[f'd{i}.{name}'] = per_layer[i]
    return loss_dict


@MODELS.register_module()
class AttrMask2FormerHead(Mask2FormerHead):
    """Mask2Former head that also predicts attribute groups per query.

    Every attribute group gets a classifier on the decoder's query
    features, run after every decoder layer like the class head (deep
    supervision). A single-label group with ``K`` values has ``K + 1``
    outputs, the last being its own no-object slot; a multi-label group has
    ``K`` sigmoid outputs. The classifiers of all groups form one module,
    ``attr_embed``, with the groups' outputs side by side: a linear layer,
    as ``cls_embed`` is, or with ``attr_head_layers=3`` an MLP as
    ``mask_embed`` is.

    The attribute logits travel concatenated to the class logits, so
    ``forward``, ``loss``, ``predict`` and the ``Mask2Former`` detector are
    mmdet's own: every ``cls_pred`` of the head has shape
    (batch_size, num_queries, num_classes + 1 + A), ``A`` being the sum of
    the groups' outputs in group order (see
    :mod:`mmmultilabel.models.utils.attribute_logits`). Use
    :class:`~mmmultilabel.models.AttrMaskFormerFusionHead` to decode them.

    Ground truth: ``gt_instances.attr_labels``, a LongTensor (N, D) in the
    encoding of :class:`~mmmultilabel.utils.AttributeSpec`; missing means
    unknown. The Hungarian matcher sees the attributes through
    :class:`~mmmultilabel.models.AttrClassificationCost` and
    :class:`~mmmultilabel.models.AttrBinaryCrossEntropyCost` in
    ``train_cfg.assigner.match_costs``. Losses: ``loss_attr_<group>`` for the
    last decoder layer and ``d{i}.loss_attr_<group>`` for the others. With
    no attribute group the head is mmdet's ``Mask2FormerHead``.

    Args:
        *args: Positional arguments of ``Mask2FormerHead``.
        attribute_groups (Sequence[dict], optional): The attribute groups,
            each ``dict(name=..., values=[...], multi_label=False)``, as in
            the data set's ``attribute_groups``. Defaults to None (none).
        loss_attr_single (:obj:`ConfigDict` or dict, optional): Loss of
            every single-label group; it receives logits (n, K + 1) and
            targets (n, ) (value, ``K`` for no object, or -1 unknown).
            Defaults to None: ``dict(type='AttrCrossEntropyLoss',
            loss_weight=2.0)``.
        loss_attr_multi (:obj:`ConfigDict` or dict, optional): Loss of every
            multi-label group; it receives logits and 0/1/-1 targets of
            shape (n, K). Defaults to None:
            ``dict(type='AttrBinaryCrossEntropyLoss', loss_weight=2.0)``.
        attr_no_object_weight (float): Weight, in the attribute losses, of
            the queries matched to no ground truth. Their target is the
            no-object slot (single-label) or "no value" (multi-label). 0 (the
            default) trains the attribute classifiers on matched queries
            only, so an image without objects has zero attribute loss.
        attr_value_weights (dict[str, Sequence[float]], optional): Per-value
            class weights of some groups, ``{group: [w_0, ..., w_K-1]}``,
            passed to the group's loss as ``class_weight`` (a single-label
            group's no-object slot gets weight 1; its queries are weighted
            by ``attr_no_object_weight``). Defaults to None (all 1).
        attr_loss_weights (dict[str, float], optional): Multiplier of the
            ``loss_weight`` of some groups, ``{group: w}``. Defaults to None
            (all 1).
        attr_head_layers (int): Linear layers of ``attr_embed``: 1 (the
            default) is one linear classifier on the query features; ``n >
            1`` puts ``n - 1`` hidden layers of ``feat_channels`` with ReLU
            before it, like mmdet's ``mask_embed`` (``n = 3``).
        check_attr_labels (bool): Check once per batch that every
            ``attr_labels`` value is unknown or a value of its group (a
            ``ValueError`` naming the group otherwise). The check reads the
            labels on the host: one device synchronisation per training
            step, which stock Mask2Former does not have. Pipelines whose
            labels come from ``LoadAttrAnnotations`` (encoded by the data
            set's groups, which ``AttrGroupsCheckHook`` compares with the
            model's) can turn it off. Defaults to True.
        attr_grad_scale (float): Multiplier of the gradient that the
            attribute losses send into the shared decoder and pixel decoder
            (through every input of ``attr_embed``); the attribute
            classifiers themselves learn at the full rate. 1 (the default)
            is plain backpropagation, 0 trains the classifiers on features
            that only the class and mask losses shape.
        learned_task_weights (bool): Weigh the losses of ``cls``, ``mask``,
            ``dice`` and every attribute group by learned homoscedastic
            uncertainty (:class:`UncertaintyTaskWeights`: ``loss *
            exp(-s) + s``, one learned ``s`` per task, shared by the decoder
            layers, in the parameter ``task_weights.log_vars``). Defaults to
            False.
        attr_mask_features (bool): The attribute classifiers also read the
            pixel decoder's mask features averaged under each query's
            predicted soft mask (:func:`mask_pooled_features`, after a
            LayerNorm ``attr_pool_norm``), concatenated to the query
            features. Defaults to False.
        attr_mask_stats (bool): The attribute classifiers also read the
            geometry of each query's predicted mask (:func:`mask_statistics`:
            area fraction, box width and height fractions, log box aspect),
            concatenated to their other inputs. Defaults to False.
        **kwargs: Keyword arguments of ``Mask2FormerHead``.
    """

    def __init__(
        self,
        *args,
        attribute_groups: Optional[Sequence[dict]] = None,
        loss_attr_single: OptConfigType = None,
        loss_attr_multi: OptConfigType = None,
        attr_no_object_weight: float = 0.0,
        attr_value_weights: Optional[Dict[str, Sequence[float]]] = None,
        attr_loss_weights: Optional[Dict[str, float]] = None,
        attr_head_layers: int = 1,
        check_attr_labels: bool = True,
        attr_grad_scale: float = 1.0,
        learned_task_weights: bool = False,
        attr_mask_features: bool = False,
        attr_mask_stats: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.attr_spec = build_attr_spec(
            attribute_groups, 'AttrMask2FormerHead'
        )
        if loss_attr_single is None:
            loss_attr_single = dict(
                type='AttrCrossEntropyLoss', loss_weight=2.0
            )
        if loss_attr_multi is None:
            loss_attr_multi = dict(
                type='AttrBinaryCrossEntropyLoss', loss_weight=2.0
            )
        self.attr_no_object_weight = float(attr_no_object_weight)
        self.check_attr_labels = check_attr_labels
        attr_value_weights = dict(attr_value_weights or {})
        attr_loss_weights = dict(attr_loss_weights or {})
        for arg, given in (
            ('attr_value_weights', attr_value_weights),
            ('attr_loss_weights', attr_loss_weights),
        ):
            undeclared = sorted(set(given) - set(self.attr_spec.names))
            if undeclared:
                raise ValueError(
                    f'{arg} names undeclared attribute group(s) '
                    f'{undeclared}; declared groups are {self.attr_spec.names}'
                )

        self.attr_channels = sum(attr_logit_channels(self.attr_spec))
        self.attr_grad_scale = float(attr_grad_scale)
        if not self.attr_grad_scale >= 0:
            raise ValueError(
                'AttrMask2FormerHead: attr_grad_scale must be a number >= 0 '
                f'(1 is plain backpropagation), got {attr_grad_scale!r}'
            )
        self.attr_mask_features = bool(attr_mask_features)
        self.attr_mask_stats = bool(attr_mask_stats)
        # The inputs of attr_embed: query features (c), then optionally the
        # pooled mask features (c_mask) and the mask statistics.
        in_channels = self.cls_embed.in_features
        if self.attr_mask_features:
            mask_channels = self.mask_embed[-1].out_features
            self.attr_pool_norm = nn.LayerNorm(mask_channels)
            in_channels += mask_channels
        if self.attr_mask_stats:
            in_channels += NUM_MASK_STATISTICS
        # The classifiers of all groups, one module with the groups' outputs
        # side by side (A in all).
        self.attr_embed = (
            self._build_attr_embed(
                in_channels, self.attr_channels, attr_head_layers
            )
            if self.attr_channels
            else None
        )
        self.task_weights = (
            UncertaintyTaskWeights(
                ['cls', 'mask', 'dice']
                + [f'attr_{name}' for name in self.attr_spec.names]
            )
            if learned_task_weights
            else None
        )
        self.loss_attrs = nn.ModuleList(
            [
                self._build_attr_loss(
                    group,
                    loss_attr_multi if group.multi_label else loss_attr_single,
                    attr_value_weights.get(group.name),
                    attr_loss_weights.get(group.name, 1.0),
                )
                for group in self.attr_spec
            ]
        )
        self.attr_group_losses = AttrGroupLosses(
            self.attr_spec, self.loss_attrs
        )
        # Decoder outputs whose attribute classifiers `predict` skips (it
        # reads the last output only); 0 outside `predict`.
        self._attr_skip_outputs = 0
        # Label rows: the target of an unmatched query (1, D) and the
        # largest valid label of every column (D, ).
        no_object_row, label_max = [], []
        for group in self.attr_spec:
            k = group.num_values
            no_object_row += [0] * k if group.multi_label else [k]
            label_max += [1] * k if group.multi_label else [k - 1]
        self.register_buffer(
            'attr_no_object_row', torch.tensor([no_object_row]).long(), False
        )
        self.register_buffer(
            'attr_label_max', torch.tensor(label_max).long(), False
        )
        # The matcher's attribute costs and the widths of their query
        # features, which `_loss_by_feat_single` computes once per layer.
        self._attr_costs: List[AttrGroupsCost] = []
        if self.train_cfg:
            self._check_attribute_costs()
            self._attr_costs = [
                cost
                for cost in getattr(self.assigner, 'match_costs', [])
                if isinstance(cost, AttrGroupsCost)
            ]
        self._attr_cost_widths = [
            cost.pred_features(
                torch.zeros(1, self.attr_channels), self.attr_spec
            ).shape[-1]
            for cost in self._attr_costs
        ]

    @staticmethod
    def _build_attr_embed(
        in_channels: int, out_channels: int, num_layers: int
    ) -> nn.Module:
        """``num_layers`` linear layers (c -> c with ReLU, then c -> A), ``c``
        being the width of the classifiers' input."""
        if int(num_layers) != num_layers or num_layers < 1:
            raise ValueError(
                f'AttrMask2FormerHead: attr_head_layers must be a positive '
                f'integer, got {num_layers!r}'
            )
        if num_layers == 1:
            return nn.Linear(in_channels, out_channels)
        layers = []
        for _ in range(int(num_layers) - 1):
            layers += [nn.Linear(in_channels, in_channels), nn.ReLU(True)]
        return nn.Sequential(*layers, nn.Linear(in_channels, out_channels))

    def _load_from_state_dict(
        self, state_dict: dict, prefix: str, *args, **kwargs
    ) -> None:
        """Refuse weights whose attribute classifiers read other inputs.

        A checkpoint trained with other ``attr_mask_features`` /
        ``attr_mask_stats`` would otherwise load with a size-mismatch warning
        and leave the classifiers untrained; the error names the settings it
        was trained with.
        """
        if self.attr_embed is not None:
            name, param = next(iter(self.attr_embed.named_parameters()))
            saved = state_dict.get(f'{prefix}attr_embed.{name}')
            if saved is not None and saved.shape[1:] != param.shape[1:]:
                self._refuse_attr_inputs(
                    int(saved.shape[1]), int(param.shape[1])
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _refuse_attr_inputs(self, width: int, own: int) -> None:
        query = self.cls_embed.in_features
        mask = self.mask_embed[-1].out_features
        ours = (
            f'attr_mask_features={self.attr_mask_features}, '
            f'attr_mask_stats={self.attr_mask_stats}'
        )
        fixes = [
            ' '.join(f'model.panoptic_head.{k}={v}' for k, v in opts.items())
            for opts in mask_input_options(width, query, mask)
        ]
        hint = (
            f'it was trained with other mask inputs: pass --cfg-options '
            f'{" or ".join(fixes)} (or set them in the config\'s '
            f'panoptic_head)'
            if fixes
            else 'it was not trained with this head; check the config'
        )
        raise InputError(
            f"The checkpoint's attribute classifiers read {width} input "
            f"channels, this model's read {own} ({ours}); {hint}."
        )

    @staticmethod
    def _build_attr_loss(
        group: AttributeGroup,
        loss_cfg: ConfigType,
        value_weights: Optional[Sequence[float]],
        group_weight: float,
    ) -> nn.Module:
        """Build the loss of one group with its class and loss weights."""
        cfg = copy.deepcopy(dict(loss_cfg))
        if 'class_weight' in cfg:
            raise ValueError(
                'set per-value weights with attr_value_weights='
                f'dict({group.name}=[...]), not class_weight in '
                'loss_attr_single / loss_attr_multi'
            )
        if value_weights is not None:
            if len(value_weights) != group.num_values:
                raise ValueError(
                    f'attr_value_weights["{group.name}"] has '
                    f'{len(value_weights)} weights for the '
                    f'{group.num_values} values {list(group.values)}'
                )
            cfg['class_weight'] = list(value_weights) + (
                [] if group.multi_label else [1.0]
            )
        cfg['loss_weight'] = cfg.get('loss_weight', 1.0) * group_weight
        loss = MODELS.build(cfg)
        if not callable(getattr(loss, 'weight_sum', None)):
            raise TypeError(
                f'the loss of attribute group "{group.name}", '
                f'{type(loss).__name__}, has no weight_sum(pred, target, '
                'weight) giving the divisor of its mean, which the head '
                'averages over the ranks of distributed training; use '
                'AttrCrossEntropyLoss, AttrBinaryCrossEntropyLoss or '
                'AttrFocalLoss, or add weight_sum to it'
            )
        if 'check_targets' not in cfg and hasattr(loss, 'check_targets'):
            # preprocess_gt checks the ground truth once per batch and every
            # target row is taken from it or is the no-object row: checking
            # again per group and layer would only add host syncs.
            loss.check_targets = False
        return loss

    def _check_attribute_costs(self) -> None:
        """Warn when the matcher cannot see some kind of attribute group."""
        costs = getattr(self.assigner, 'match_costs', [])
        needed = {
            AttrClassificationCost: [
                g.name for g in self.attr_spec if not g.multi_label
            ],
            AttrBinaryCrossEntropyCost: [
                g.name for g in self.attr_spec if g.multi_label
            ],
        }
        for cost_type, groups in needed.items():
            if groups and not any(isinstance(c, cost_type) for c in costs):
                print_log(
                    f'train_cfg.assigner.match_costs has no '
                    f'{cost_type.__name__}: the matching ignores the '
                    f'attribute group(s) {groups}; add '
                    f"dict(type='{cost_type.__name__}', weight=1.0)",
                    logger='current',
                    level=logging.WARNING,
                )

    def _split_logits(self, logits: Tensor) -> Tuple[Tensor, Tensor]:
        """Split class logits from attribute logits.

        Args:
            logits (Tensor): Shape (..., num_classes + 1 + A).

        Returns:
            tuple[Tensor, Tensor]: Class logits (..., num_classes + 1) and
            attribute logits (..., A).
        """
        return split_class_attr_logits(
            logits, self.num_classes, self.attr_spec
        )

    def _split_match_inputs(
        self, logits: Tensor
    ) -> Tuple[Tensor, Tensor, List[Tensor]]:
        """Split what :meth:`_loss_by_feat_single` gives the matcher.

        Args:
            logits (Tensor): Shape (num_queries, num_classes + 1 + A), or
                with the query features of the attribute costs appended,
                (num_queries, num_classes + 1 + A + sum(F)).

        Returns:
            tuple: Class logits (num_queries, num_classes + 1), attribute
            logits (num_queries, A), and the features (num_queries, F) of
            each attribute cost (empty if not appended).
        """
        widths = [self.num_classes + 1, self.attr_channels]
        if logits.shape[-1] > sum(widths):
            widths += self._attr_cost_widths
        cls_score, attr_pred, *cost_feats = logits.split(widths, dim=-1)
        return cls_score, attr_pred, cost_feats

    def _forward_head(
        self,
        decoder_out: Tensor,
        mask_feature: Tensor,
        attn_mask_target_size: Tuple[int, int],
    ) -> Tuple[Tensor]:
        """Add the attribute logits to the class logits of one layer.

        Args:
            decoder_out (Tensor): Query features of shape
                (batch_size, num_queries, c).
            mask_feature (Tensor): Shape (batch_size, c, h, w).
            attn_mask_target_size (tuple[int, int]): Target attention mask
                size.

        Returns:
            tuple[Tensor]: ``cls_pred`` of shape (batch_size, num_queries,
            num_classes + 1 + A), then the parent's ``mask_pred`` and
            ``attn_mask``.
        """
        cls_pred, mask_pred, attn_mask = super()._forward_head(
            decoder_out, mask_feature, attn_mask_target_size
        )
        if self._attr_skip_outputs:
            self._attr_skip_outputs -= 1
            return cls_pred, mask_pred, attn_mask
        if self.attr_embed is None:
            return cls_pred, mask_pred, attn_mask
        # The parent normalises decoder_out for cls_embed without returning
        # it; the attribute classifiers read the same normalised features.
        query_feat = self.transformer_decoder.post_norm(decoder_out)
        # (B, Q, A)
        attr_pred = self.attr_embed(
            self._attr_inputs(query_feat, mask_feature, mask_pred)
        )
        # (B, Q, C + 1), (B, Q, A) -> (B, Q, C + 1 + A)
        return torch.cat([cls_pred, attr_pred], dim=-1), mask_pred, attn_mask

    def predict(
        self, x: Tuple[Tensor], batch_data_samples: SampleList
    ) -> Tuple[Tensor]:
        """Mask2Former's prediction, with the attribute classifiers run on
        the last decoder output only, the one ``predict`` reads (the other
        outputs' class logits come without attribute logits).

        Returns:
            tuple[Tensor]: ``mask_cls_results`` (B, Q, C + 1 + A) and
            ``mask_pred_results`` (B, Q, H, W), as the parent's.
        """
        self._attr_skip_outputs = self.num_transformer_decoder_layers
        try:
            return super().predict(x, batch_data_samples)
        finally:
            self._attr_skip_outputs = 0

    def _attr_inputs(
        self, query_feat: Tensor, mask_feature: Tensor, mask_pred: Tensor
    ) -> Tensor:
        """What the attribute classifiers of one decoder layer read.

        The query features, then (with ``attr_mask_features``) the mask
        features pooled under the query's soft mask and (with
        ``attr_mask_stats``) its mask statistics, concatenated:
        concatenation keeps the query path as it is without the options (a
        classifier can ignore what it does not need) and needs no projection
        to put the four statistics beside ``c`` features. The predicted
        masks enter detached: the mask and dice losses alone shape them.
        What comes from the shared decoders passes
        :func:`~mmmultilabel.models.utils.grad_scale.scale_grad` with
        ``attr_grad_scale``.

        Args:
            query_feat (Tensor): Normalised query features (B, Q, c).
            mask_feature (Tensor): Pixel decoder features (B, c_mask, h, w).
            mask_pred (Tensor): Mask logits (B, Q, h, w).

        Returns:
            Tensor: Shape (B, Q, c), with both options
            (B, Q, c + c_mask + 4).
        """
        inputs = [scale_grad(query_feat, self.attr_grad_scale)]
        if self.attr_mask_features:
            feature = scale_grad(mask_feature, self.attr_grad_scale)
            # (B, Q, h, w), (B, c_mask, h, w) -> (B, Q, c_mask)
            pooled = mask_pooled_features(mask_pred.detach(), feature)
            inputs.append(self.attr_pool_norm(pooled))
        if self.attr_mask_stats:
            # (B, Q, h, w) -> (B, Q, 4)
            inputs.append(mask_statistics(mask_pred.detach()))
        # (B, Q, c) + ... -> (B, Q, c + ...)
        return inputs[0] if len(inputs) == 1 else torch.cat(inputs, dim=-1)

    def preprocess_gt(
        self,
        batch_gt_instances: InstanceList,
        batch_gt_semantic_segs: List[Optional[PixelData]],
    ) -> InstanceList:
        """Keep ``attr_labels`` through the parent's preprocessing.

        The parent rebuilds every ``InstanceData`` with ``labels`` and
        ``masks`` only, appending stuff segments after the things for
        panoptic training. ``attr_labels`` is put back on the things; stuff
        segments and images without ``attr_labels`` get unknown (-1) rows.

        Args:
            batch_gt_instances (list[:obj:`InstanceData`]): ``labels`` (N, ),
                ``masks`` and optional ``attr_labels`` (N, D) per image.
            batch_gt_semantic_segs (list[:obj:`PixelData`, optional]):
                Semantic segmentation per image, or None.

        Returns:
            list[:obj:`InstanceData`]: ``labels`` (n, ), ``masks``
            (n, h, w) and ``attr_labels`` (n, D) per image.
        """
        targets_list = super().preprocess_gt(
            batch_gt_instances, batch_gt_semantic_segs
        )
        rows = []
        for gt_instances, targets in zip(batch_gt_instances, targets_list):
            attr_labels = targets.labels.new_full(
                (len(targets), self.attr_spec.num_label_columns), UNKNOWN
            )
            if 'attr_labels' in gt_instances:
                things = self._checked_attr_labels(gt_instances)
                attr_labels[: len(things)] = things.to(attr_labels.device)
            rows.append(attr_labels)
        if not rows:
            return targets_list
        # Value checks and cost features once for the batch: (sum N, D)
        all_rows = torch.cat(rows)
        if self.check_attr_labels:
            self._check_attr_values(all_rows)
        sizes = [len(r) for r in rows]
        # The attribute costs' ground truth features, shared by the
        # matching of every decoder layer.
        features = {
            cost.feature_field: cost.gt_features(
                all_rows, self.attr_spec
            ).split(sizes)
            for cost in self._attr_costs
        }
        for i, (targets, attr_labels) in enumerate(zip(targets_list, rows)):
            targets.attr_labels = attr_labels
            for name, per_image in features.items():
                targets.set_field(per_image[i], name)
        return targets_list

    def _checked_attr_labels(self, gt_instances: InstanceData) -> Tensor:
        """``gt_instances.attr_labels`` as a LongTensor of checked shape.

        Raises:
            ValueError: if the shape or the type does not fit the groups.
        """
        attr_labels = torch.as_tensor(gt_instances.attr_labels)
        num_gts = len(gt_instances['labels'])
        shape = (num_gts, self.attr_spec.num_label_columns)
        if tuple(attr_labels.shape) != shape:
            raise ValueError(
                f'gt_instances.attr_labels has shape '
                f'{tuple(attr_labels.shape)}; expected {shape} (one row per '
                f'instance, columns of groups {self.attr_spec.names})'
            )
        if attr_labels.is_floating_point():
            raise ValueError(
                'gt_instances.attr_labels must hold integers, '
                f'got {attr_labels.dtype}'
            )
        return attr_labels.long()

    def _check_attr_values(self, attr_labels: Tensor) -> None:
        """Refuse labels that are neither unknown nor a value of the group.

        Args:
            attr_labels (Tensor): Encoded labels of shape (N, D).

        Raises:
            ValueError: naming the group, the bad labels and the range.
        """
        label_max = self.attr_label_max.to(attr_labels.device)
        # (N, D): labels neither unknown nor in 0..max of their column
        bad = (attr_labels != UNKNOWN) & (
            (attr_labels < 0) | (attr_labels > label_max)
        )
        if not bad.any():
            return
        column = int(bad.any(0).nonzero()[0])
        for group, cols in zip(
            self.attr_spec, self.attr_spec.label_slices.values()
        ):
            if cols.start <= column < cols.stop:
                labels = attr_labels[:, cols]
                raise ValueError(
                    f'gt_instances.attr_labels of group "{group.name}" '
                    f'holds {labels[bad[:, cols]].unique().tolist()}; '
                    f'expected -1 (unknown) or 0..{int(label_max[column])}'
                )

    def _get_targets_single(
        self,
        cls_score: Tensor,
        mask_pred: Tensor,
        gt_instances: InstanceData,
        img_meta: dict,
    ) -> Tuple[Tensor]:
        """Match with attribute costs; also return each query's match.

        As the parent, with the attribute logits and labels (and the
        attribute costs' features) given to the assigner, so the attribute
        costs take part in the matching.

        Args:
            cls_score (Tensor): Class and attribute logits of one image for
                one decoder layer, shape (num_queries, num_classes + 1 + A),
                optionally followed by the attribute costs' query features
                (see :meth:`_split_match_inputs`).
            mask_pred (Tensor): Mask logits of shape (num_queries, h, w).
            gt_instances (:obj:`InstanceData`): ``labels`` (N, ), ``masks``
                (N, H, W) and ``attr_labels`` (N, D); without
                ``attr_labels`` every attribute is unknown.
            img_meta (dict): Image information.

        Returns:
            tuple[Tensor]: The parent's ``labels``, ``label_weights``,
            ``mask_targets``, ``mask_weights``, ``pos_inds``, ``neg_inds``
            and ``sampling_result``, then ``gt_inds`` (Tensor): shape
            (num_queries, ), 0 for an unmatched query and ``n + 1`` for a
            query matched to ground truth ``n`` (the assigner's), from which
            :meth:`_attr_targets` builds the attribute targets of the whole
            batch at once.
        """
        cls_score, attr_pred, cost_feats = self._split_match_inputs(cls_score)
        gt_labels = gt_instances.labels
        gt_masks = gt_instances.masks
        if 'attr_labels' in gt_instances:
            gt_attr_labels = gt_instances.attr_labels
        else:
            gt_attr_labels = gt_labels.new_full(
                (len(gt_labels), self.attr_spec.num_label_columns), UNKNOWN
            )
        num_queries = cls_score.shape[0]
        num_gts = gt_labels.shape[0]

        point_coords = torch.rand(
            (1, self.num_points, 2), device=cls_score.device
        )
        # (num_queries, h, w) -> (num_queries, num_points)
        mask_points_pred = point_sample(
            mask_pred.unsqueeze(1), point_coords.repeat(num_queries, 1, 1)
        ).squeeze(1)
        # (num_gts, H, W) -> (num_gts, num_points)
        gt_points_masks = point_sample(
            gt_masks.unsqueeze(1).float(), point_coords.repeat(num_gts, 1, 1)
        ).squeeze(1)

        sampled_gt_instances = InstanceData(
            labels=gt_labels, masks=gt_points_masks, attr_labels=gt_attr_labels
        )
        sampled_pred_instances = InstanceData(
            metainfo=dict(attribute_spec=self.attr_spec),
            scores=cls_score,
            masks=mask_points_pred,
            attr_logits=attr_pred,
        )
        for cost, feats in zip(self._attr_costs, cost_feats):
            sampled_pred_instances.set_field(feats, cost.feature_field)
            if cost.feature_field in gt_instances:
                sampled_gt_instances.set_field(
                    gt_instances.get(cost.feature_field), cost.feature_field
                )
        assign_result = self.assigner.assign(
            pred_instances=sampled_pred_instances,
            gt_instances=sampled_gt_instances,
            img_meta=img_meta,
        )
        sampling_result = self.sampler.sample(
            assign_result=assign_result,
            pred_instances=InstanceData(scores=cls_score, masks=mask_pred),
            gt_instances=gt_instances,
        )
        pos_inds = sampling_result.pos_inds
        pos_gt_inds = sampling_result.pos_assigned_gt_inds

        labels = gt_labels.new_full(
            (self.num_queries,), self.num_classes, dtype=torch.long
        )
        labels[pos_inds] = gt_labels[pos_gt_inds]
        label_weights = gt_labels.new_ones((self.num_queries,))
        mask_targets = gt_masks[pos_gt_inds]
        mask_weights = mask_pred.new_zeros((self.num_queries,))
        mask_weights[pos_inds] = 1.0

        return (
            labels,
            label_weights,
            mask_targets,
            mask_weights,
            pos_inds,
            sampling_result.neg_inds,
            sampling_result,
            assign_result.gt_inds,
        )

    def get_targets(
        self,
        cls_scores_list: List[Tensor],
        mask_preds_list: List[Tensor],
        batch_gt_instances: InstanceList,
        batch_img_metas: List[dict],
        return_sampling_results: bool = False,
    ) -> tuple:
        """The parent's targets, or those that ``batch_gt_instances`` carries.

        :meth:`_loss_by_feat_single` matches each decoder layer once, on
        class, mask and attribute predictions, then gives the parent's
        ``_loss_by_feat_single`` the ground truth as a
        :class:`MatchedGtInstances` holding that layer's targets; the parent
        passes it on here, and gets those targets instead of an
        attribute-blind re-matching.

        Returns:
            tuple: As the parent; when matched here, followed by
            ``gt_inds_list`` (see :meth:`_get_targets_single`).
        """
        if (
            isinstance(batch_gt_instances, MatchedGtInstances)
            and not return_sampling_results
        ):
            return batch_gt_instances.targets
        return super().get_targets(
            cls_scores_list,
            mask_preds_list,
            batch_gt_instances,
            batch_img_metas,
            return_sampling_results,
        )

    def _loss_by_feat_single(
        self,
        cls_scores: Tensor,
        mask_preds: Tensor,
        batch_gt_instances: InstanceList,
        batch_img_metas: List[dict],
    ) -> Tuple[Tensor]:
        """Losses of one decoder layer, attribute losses included.

        The layer is matched once, on class, mask and attribute predictions
        (:meth:`get_targets`); its targets then reach every loss through
        :meth:`_loss_by_targets`.

        Args:
            cls_scores (Tensor): Class and attribute logits of shape
                (batch_size, num_queries, num_classes + 1 + A).
            mask_preds (Tensor): Mask logits of shape
                (batch_size, num_queries, h, w).
            batch_gt_instances (list[:obj:`InstanceData`]): ``labels``,
                ``masks`` and ``attr_labels`` per image.
            batch_img_metas (list[dict]): Image information.

        Returns:
            tuple[Tensor]: As :meth:`_loss_by_targets`.
        """
        match_inputs = cls_scores.detach()
        if self._attr_costs:
            # The attribute costs' query features, for the whole batch:
            # (B, Q, C + 1 + A) -> (B, Q, C + 1 + A + sum(F))
            attr_logits = self._split_logits(match_inputs)[1]
            match_inputs = torch.cat(
                [match_inputs]
                + [
                    cost.pred_features(attr_logits, self.attr_spec)
                    for cost in self._attr_costs
                ],
                dim=-1,
            )
        # (B, Q, W) -> B x (Q, W)
        targets = self.get_targets(
            list(match_inputs.unbind(0)),
            list(mask_preds.unbind(0)),
            batch_gt_instances,
            batch_img_metas,
        )
        return self._loss_by_targets(
            cls_scores,
            mask_preds,
            targets,
            batch_gt_instances,
            batch_img_metas,
        )

    def _loss_by_targets(
        self,
        cls_scores: Tensor,
        mask_preds: Tensor,
        targets: tuple,
        batch_gt_instances: InstanceList,
        batch_img_metas: List[dict],
    ) -> Tuple[Tensor]:
        """Losses of one decoder layer from its targets.

        Args:
            cls_scores (Tensor): Class and attribute logits of shape
                (batch_size, num_queries, num_classes + 1 + A).
            mask_preds (Tensor): Mask logits of shape
                (batch_size, num_queries, h, w).
            targets (tuple): The layer's targets: :meth:`get_targets`'s
                ``labels_list``, ``label_weights_list``,
                ``mask_targets_list``, ``mask_weights_list``, ``avg_factor``
                and ``gt_inds_list``.
            batch_gt_instances (list[:obj:`InstanceData`]): ``labels``,
                ``masks`` and ``attr_labels`` per image.
            batch_img_metas (list[dict]): Image information.

        Returns:
            tuple[Tensor]: ``loss_cls``, ``loss_mask`` and ``loss_dice`` as
            the parent, then one attribute loss per group in group order.
        """
        cls_scores, attr_preds = self._split_logits(cls_scores)
        loss_cls, loss_mask, loss_dice = super()._loss_by_feat_single(
            cls_scores,
            mask_preds,
            MatchedGtInstances(batch_gt_instances, targets[:5]),
            batch_img_metas,
        )
        losses_attr = self._loss_attr(
            attr_preds, *self._attr_targets(targets[5], batch_gt_instances)
        )
        return (loss_cls, loss_mask, loss_dice) + losses_attr

    def _attr_targets(
        self, gt_inds_list: List[Tensor], batch_gt_instances: InstanceList
    ) -> Tuple[Tensor, Tensor]:
        """Attribute targets and weights of every query of a batch.

        Args:
            gt_inds_list (list[Tensor]): Per image, shape (num_queries, ):
                0 for an unmatched query, ``n + 1`` for a query matched to
                ground truth ``n``.
            batch_gt_instances (list[:obj:`InstanceData`]): ``attr_labels``
                (N, D) per image, as :meth:`preprocess_gt` gives.

        Returns:
            tuple[Tensor, Tensor]:

            - attr_targets (Tensor): Shape (batch_size, num_queries, D): the
              ground truth row of the matched instance (unknown stays -1);
              for other queries ``K`` (no-object slot) in single-label
              columns and 0 in multi-label columns.
            - attr_weights (Tensor): Shape (batch_size, num_queries): 1 for
              matched queries, ``attr_no_object_weight`` for the others.
        """
        labels = [gt.attr_labels for gt in batch_gt_instances]
        # (1 + sum N, D): the unmatched row, then every image's ground truth
        table = torch.cat([self.attr_no_object_row] + labels)
        sizes = [0] + [len(rows) for rows in labels[:-1]]
        offsets = table.new_tensor(sizes).cumsum(0)
        # (B, Q): row of the table for every query
        gt_inds = torch.stack(gt_inds_list)
        matched = gt_inds > 0
        rows = torch.where(matched, gt_inds + offsets[:, None], 0)
        weights = torch.where(matched, 1.0, self.attr_no_object_weight)
        return table[rows], weights

    def _loss_attr(
        self, attr_preds: Tensor, attr_targets: Tensor, attr_weights: Tensor
    ) -> Tuple[Tensor]:
        """One loss per attribute group for one decoder layer.

        Each group's loss is divided by its summed weight of known targets
        averaged over the ranks (:class:`AttrGroupLosses`): with gradients
        averaged by DDP, the step is that of one process on the whole
        batch, however unevenly known labels fall on the ranks.

        Args:
            attr_preds (Tensor): Shape (batch_size, num_queries, A).
            attr_targets (Tensor): Shape (batch_size, num_queries, D).
            attr_weights (Tensor): Shape (batch_size, num_queries).

        Returns:
            tuple[Tensor]: One scalar loss per group, in group order.
        """
        # (B, Q, ...) -> (B * Q, ...)
        return self.attr_group_losses(
            attr_preds.flatten(0, 1),
            attr_targets.flatten(0, 1),
            attr_weights.flatten(0, 1),
        )

    def loss_by_feat(
        self,
        all_cls_scores: List[Tensor],
        all_mask_preds: List[Tensor],
        batch_gt_instances: InstanceList,
        batch_img_metas: List[dict],
    ) -> Dict[str, Tensor]:
        """Name the losses of every decoder layer, attributes included.

        The parent unpacks exactly three losses per layer; this names all of
        them: ``loss_cls``, ``loss_mask``, ``loss_dice`` and
        ``loss_attr_<group>`` for the last layer, with ``d{i}.`` prefixes for
        the others, in the parent's order.

        Args:
            all_cls_scores (list[Tensor]): Per decoder layer, shape
                (batch_size, num_queries, num_classes + 1 + A).
            all_mask_preds (list[Tensor]): Per decoder layer, shape
                (batch_size, num_queries, h, w).
            batch_gt_instances (list[:obj:`InstanceData`]): Ground truth.
            batch_img_metas (list[dict]): Image information.

        Returns:
            dict[str, Tensor]: The losses.
        """
        num_dec_layers = len(all_cls_scores)
        losses = multi_apply(
            self._loss_by_feat_single,
            all_cls_scores,
            all_mask_preds,
            [batch_gt_instances] * num_dec_layers,
            [batch_img_metas] * num_dec_layers,
        )
        loss_dict = self._name_layer_losses(losses)
        if self.task_weights is not None:
            loss_dict = self.task_weights(loss_dict)
        return loss_dict

    def _name_layer_losses(self, losses: Sequence[List[Tensor]]) -> dict:
        """The loss dict of :meth:`loss_by_feat`.

        Args:
            losses (Sequence[list[Tensor]]): Per loss of
                :meth:`_loss_by_targets`, its value on every decoder layer.

        Returns:
            dict[str, Tensor]: The losses of the last layer, then ``d{i}.``
            the others.
        """
        names = ['loss_cls', 'loss_mask', 'loss_dice'] + [
            f'loss_attr_{name}' for name in self.attr_spec.names
        ]
        return name_layer_losses(names, losses)
