# Semantic FPN on the embedded shapes data set as semantic segmentation:
# background=0, circle=1, square=2, triangle=3; 128x128 images, batch 8, 1000
# iterations (about 7 minutes on one CPU core). ResNet-18 at half width
# (base 32 channels, BN) from scratch, FPN and head with 64 channels; output
# stride 4. The cross-entropy baseline of
# fpn-inverseform_r18-w32_1xb8-1k_shapes-semseg.py. Label PNGs:
#   python tools/inverseform/shapes2semseg.py data/shapes
_base_ = [
    'mmseg::_base_/models/fpn_r50.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
custom_imports = dict(
    imports=['mmmultilabel', 'mmmultilabel.inverseform'],
    allow_failed_imports=False,
)
runner_type = 'mmdet.SafeRunner'  # weights_only checkpoints, CPU DDP

data_root = 'data/shapes/'
classes = ('background', 'circle', 'square', 'triangle')
palette = [[236, 236, 236], [220, 40, 40], [40, 170, 60], [40, 80, 220]]
metainfo = dict(classes=classes, palette=palette)
num_classes = len(classes)
width = 32
channels = 64
max_iters = 1000

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    pretrained=None,
    backbone=dict(
        depth=18,
        stem_channels=width,
        base_channels=width,
        norm_cfg=norm_cfg,
        init_cfg=None,
    ),
    neck=dict(
        in_channels=[width, 2 * width, 4 * width, 8 * width],
        out_channels=channels,
    ),
    decode_head=dict(
        in_channels=[channels] * 4,
        channels=channels,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        loss_decode=dict(avg_non_ignore=True),
    ),
)

dataset_type = 'BaseSegDataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.png',
    seg_map_suffix='.png',
)
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        dataset,
        data_prefix=dict(img_path='train', seg_map_path='semseg/train'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        dataset,
        data_prefix=dict(img_path='val', seg_map_path='semseg/val'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# From scratch on 600 images: AdamW instead of the SGD recipe for pretrained
# backbones.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=0.01)
)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False,
    )
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
)
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
