# CPU-sized attribute Mask2Former on the embedded shapes data set
# (`make demo`): ResNet-18 from scratch, 64 channels, 20 queries, 3 decoder
# layers, 128x128 images, batch 8, 1500 iterations (11-13 min on 2 CPU
# cores; segm mAP 0.69-0.76 on the val split).
# Attribute groups: color and size (single-label), pattern (multi-label).
_base_ = './mask2former-attr_r50_8xb2-lsj-50e_coco-attr.py'

data_root = 'data/shapes/'
train_ann = 'annotations/train.json'
val_ann = 'annotations/val.json'
classes = ('circle', 'square', 'triangle')
# The groups that tools/dataset_converters/make_shapes.py writes.
attribute_groups = [
    dict(name='color', values=['red', 'green', 'blue', 'yellow']),
    dict(name='size', values=['small', 'medium', 'large']),
    dict(
        name='pattern',
        values=['striped', 'dotted', 'outlined'],
        multi_label=True,
    ),
]
num_classes = len(classes)
metainfo = dict(classes=classes, attribute_groups=attribute_groups)
num_queries = 20
channels = 64
max_iters = 1500
interval = 500

model = dict(
    data_preprocessor=dict(batch_augments=None, pad_size_divisor=32),
    backbone=dict(
        depth=18,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=None,
    ),
    panoptic_head=dict(
        in_channels=[64, 128, 256, 512],
        feat_channels=channels,
        out_channels=channels,
        num_queries=num_queries,
        num_things_classes=num_classes,
        attribute_groups=attribute_groups,
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        pixel_decoder=dict(
            encoder=dict(
                num_layers=3,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=channels, num_heads=4),
                    ffn_cfg=dict(
                        embed_dims=channels, feedforward_channels=4 * channels
                    ),
                ),
            ),
            positional_encoding=dict(num_feats=channels // 2),
        ),
        positional_encoding=dict(num_feats=channels // 2),
        transformer_decoder=dict(
            num_layers=3,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=channels, num_heads=4),
                cross_attn_cfg=dict(embed_dims=channels, num_heads=4),
                ffn_cfg=dict(
                    embed_dims=channels, feedforward_channels=4 * channels
                ),
            ),
        ),
    ),
    panoptic_fusion_head=dict(
        num_things_classes=num_classes, attribute_groups=attribute_groups
    ),
    train_cfg=dict(num_points=2048),
    test_cfg=dict(max_per_image=50),
)

train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAttrDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
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
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root,
        ann_file=train_ann,
        metainfo=metainfo,
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=1),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root,
        ann_file=val_ann,
        metainfo=metainfo,
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + val_ann)
test_evaluator = val_evaluator

# From scratch: the backbone learns at the full rate. lr 8e-4 for a total
# batch of 16, i.e. 4e-4 at the batch of 8 used here (auto_scale_lr).
optim_wrapper = dict(
    optimizer=dict(lr=8e-4),
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=1.0))),
    clip_grad=dict(max_norm=0.1, norm_type=2),
)
param_scheduler = dict(
    type='MultiStepLR',
    begin=0,
    end=max_iters,
    by_epoch=False,
    milestones=[1300],
    gamma=0.1,
)
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=interval,
)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=interval,
        save_last=True,
        max_keep_ckpts=2,
    ),
)
auto_scale_lr = dict(enable=True, base_batch_size=16)
# A fixed seed: the same run gives the same numbers on the same machine and
# thread count (`make demo`). The spread over seeds is in docs/model.md.
randomness = dict(seed=0)
