# IF-Net of the InverseForm loss, trained on the shapes data set's own
# ground-truth boundaries (no download): 64x64 tiles, batch 32, 3000
# iterations (about 13 minutes on one busy CPU core). A tenth of the train
# split's label maps is held out; every 1000 iterations InverseFormMetric
# reports on 256 held-out windows the regression error and the distance
# given to known shifts and scalings (docs/inverseform.md):
#   python tools/train.py configs/inverseform/ifnet_s64_1xb32-3k_shapes.py
# The InverseForm configs load work_dirs/ifnet_s64_1xb32-3k_shapes/
# iter_3000.pth. For label PNGs instead of a COCO file set
# ann_file='' and data_prefix=dict(seg_map_path='semseg/train').
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(
    imports=['mmmultilabel', 'mmmultilabel.inverseform'],
    allow_failed_imports=False,
)
runner_type = 'SafeRunner'  # weights_only checkpoint loading, CPU DDP

tile_size = 64
max_iters = 3000
lr = 1e-3
data_root = 'data/shapes/'

model = dict(
    type='InverseFormRegressor',
    net=dict(tile_size=tile_size, channels=16, hidden=256),
    attack_cfg=dict(steps=10, eps=0.3),
)

# zoom_range should cover how the loss tiles images: a loss with
# grid=(gh, gw) on H x W label maps sees H / (gh * tile_size) image pixels
# per tile pixel.
dataset = dict(
    type='InverseFormPairDataset',
    data_root=data_root,
    ann_file='annotations/train.json',
    tile_size=tile_size,
    zoom_range=(1.0, 2.0),
    instance_prob=0.5,
    warp_range=dict(
        max_translation=0.3,  # tile-normalised: 1.0 is half a tile
        max_rotation=0.3,
        max_log_scale=0.25,
        max_shear=0.1,
    ),
    val_fraction=0.1,
    split_seed=0,
)
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(dataset, split='train'),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        dataset,
        split='val',
        test_mode=True,
        num_samples=256,
        seed=1,
        probes=dict(
            shifts_px=(0, 1, 2, 4, 8),
            scales=(1.05, 1.1, 1.2),
            attack=('shift_4px',),
        ),
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='InverseFormMetric')
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Adam with torch's OneCycleLR schedule (max lr 1e-3, 5 % warm-up, cosine
# phases) and its default cycle_momentum: the lr rises from lr / 25 to lr
# over the warm-up and falls to lr / 25e4, Adam's beta1 goes from 0.95 to
# 0.85 and back. Written as cosine phases because mmengine's OneCycleLR
# keeps a function in its checkpoint state, which weights_only loading
# (SafeRunner) refuses on resume.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=lr / 25, betas=(0.95, 0.999)),
)
warmup = int(0.05 * max_iters) - 1  # the step of the highest lr
phases = [
    dict(T_max=warmup, begin=0, end=warmup + 1, by_epoch=False),
    dict(
        T_max=max_iters - 1 - warmup,
        begin=warmup,
        end=max_iters,
        by_epoch=False,
    ),
]
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=lr, **phases[0]),
    dict(type='CosineAnnealingLR', eta_min=lr / 25e4, **phases[1]),
    dict(type='CosineAnnealingMomentum', eta_min=0.85, **phases[0]),
    dict(type='CosineAnnealingMomentum', eta_min=0.95, **phases[1]),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=200, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1,
    ),
)
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False)
# every process draws its own pairs (training pairs come from torch's RNG)
randomness = dict(seed=0, diff_rank_seed=True)
