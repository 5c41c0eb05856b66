# Mask2Former with attribute heads: the GPU recipe for your own attribute
# COCO data (see docs/dataset_format.md). mmdet's COCO instance recipe (LSJ
# 1024x1024, 50 epochs, batch 8 GPUs x 2 = 16 at lr 1e-4) with:
#   * AttrCocoDataset + attribute-aware loading/packing transforms,
#   * AttrMask2FormerHead (one classifier per attribute group) and attribute
#     costs in the Hungarian matcher,
#   * AttrMaskFormerFusionHead (predictions with attributes),
#   * AttrCocoMetric (COCO AP + attribute accuracy and attribute-aware AP).
# Set data_root, the annotation files, classes and attribute_groups below.
_base_ = 'mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco.py'
custom_imports = dict(imports=['mmmultilabel'], allow_failed_imports=False)
# mmengine's Runner plus checkpoints loaded with torch.load(weights_only=True)
# and distributed runs without CUDA (gloo); see mmmultilabel/engine/runner.
runner_type = 'SafeRunner'

data_root = 'data/coco-attr/'
train_ann = 'annotations/train.json'
val_ann = 'annotations/val.json'
# Classes and attribute groups of your data, in the order of the model's
# outputs. `attribute_groups` may also be the path of an annotation file
# whose groups are taken.
classes = ('car', 'person')
attribute_groups = [
    dict(name='color', values=['red', 'green', 'blue'], multi_label=False),
    dict(name='size', values=['small', 'medium', 'large'], multi_label=False),
]
num_classes = len(classes)
metainfo = dict(classes=classes, attribute_groups=attribute_groups)

# The backbone keeps mmdet's frozen BN (ImageNet-pretrained ResNet-50, needs
# torchvision); the pixel decoder uses GN, so SyncBN does not apply here. For a
# backbone trained from scratch set `norm_cfg=dict(type='SyncBN')`: it is
# reverted to BN automatically when training without CUDA.
model = dict(
    panoptic_head=dict(
        type='AttrMask2FormerHead',
        num_things_classes=num_classes,
        num_stuff_classes=0,
        attribute_groups=attribute_groups,
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        loss_attr_single=dict(type='AttrCrossEntropyLoss', loss_weight=2.0),
        loss_attr_multi=dict(
            type='AttrBinaryCrossEntropyLoss', loss_weight=2.0
        ),
        # The attribute classifiers also read the pixel features under each
        # query's mask and the mask's area and box: chosen over the shapes
        # set and three held-out families (docs/model.md, "The study on
        # held-out families"). Checkpoints trained without them need both
        # set to False.
        attr_mask_features=True,
        attr_mask_stats=True,
    ),
    panoptic_fusion_head=dict(
        type='AttrMaskFormerFusionHead',
        num_things_classes=num_classes,
        num_stuff_classes=0,
        attribute_groups=attribute_groups,
        score_mode='class',
    ),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=2.0),
                dict(
                    type='CrossEntropyLossCost', weight=5.0, use_sigmoid=True
                ),
                dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0),
                dict(type='AttrClassificationCost', weight=1.0),
                dict(type='AttrBinaryCrossEntropyCost', weight=1.0),
            ],
        )
    ),
)

image_size = (1024, 1024)
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    # large scale jittering
    dict(
        type='RandomResize',
        scale=image_size,
        ratio_range=(0.1, 2.0),
        resize_type='Resize',
        keep_ratio=True,
    ),
    dict(
        type='RandomCrop',
        crop_size=image_size,
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True,
    ),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
    dict(type='PackAttrDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    # Without ground truth (inference only) drop LoadAttrAnnotations.
    dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackAttrDetInputs',
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'scale_factor',
        ),
    ),
]

train_dataloader = dict(
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='AttrCocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file=train_ann,
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    dataset=dict(
        type='AttrCocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file=val_ann,
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
    )
)
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True,
    type='AttrCocoMetric',
    ann_file=data_root + val_ann,
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args,
)
test_evaluator = val_evaluator

# Fails fast when the model's classes or attribute groups differ from the
# data set's.
custom_hooks = [dict(type='AttrGroupsCheckHook')]

visualizer = dict(
    type='AttrDetLocalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer',
)

# Effective batch 16 (8 GPUs x 2) at lr 1e-4, as in the reference recipe;
# other batch sizes scale the lr linearly.
auto_scale_lr = dict(enable=True, base_batch_size=16)
