"""Training step time: attribute Mask2Former against mmdet's stock one.

Both models are built from the same config (the attribute model as is, the
stock one with mmdet's ``Mask2FormerHead``/``MaskFormerFusionHead`` and
without attribute costs), start from the same weights, and train on the same
batches. Steps are interleaved (attr, stock, stock, attr, ...): each pair of
steps runs the same batch back to back, so both see the same batch and the
same machine load. Printed: the median step time of each model, and the
median over the pairs of the per-pair ratio attr / stock, the measure that
the 1.03 target applies to (a per-step ratio is not thrown off by batches
of different sizes or by a slow minute of the machine).

Example:
    python tools/analysis_tools/bench_train_step.py --steps 30
"""

import argparse
import copy
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger

import mmmultilabel  # noqa: F401  (registers modules)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    REPO,
    'configs',
    'mask2former-attr',
    'mask2former-attr_r18_1xb8-1500i_shapes.py',
)
ATTR_KEYS = (
    'attribute_groups',
    'loss_attr_single',
    'loss_attr_multi',
    'attr_no_object_weight',
    'attr_value_weights',
    'attr_loss_weights',
    'score_mode',
    'attr_value_thr',
    'attr_unknown_thrs',
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='attribute model config (default: CPU config)',
    )
    parser.add_argument(
        '--data-root',
        default=None,
        help='shapes data (default: data/shapes, or a small '
        'set generated in a temporary folder)',
    )
    parser.add_argument(
        '--steps',
        type=int,
        default=100,
        help='timed steps per model (default: 100)',
    )
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed steps per model (default: 3)',
    )
    return parser.parse_args()


def stock_model_cfg(attr_cfg: dict) -> dict:
    """The same model with mmdet's own heads and no attribute costs."""
    cfg = copy.deepcopy(attr_cfg)
    for key in ('panoptic_head', 'panoptic_fusion_head'):
        for attr_key in ATTR_KEYS:
            cfg[key].pop(attr_key, None)
    cfg['panoptic_head']['type'] = 'Mask2FormerHead'
    cfg['panoptic_fusion_head']['type'] = 'MaskFormerFusionHead'
    costs = cfg['train_cfg']['assigner']['match_costs']
    cfg['train_cfg']['assigner']['match_costs'] = [
        c for c in costs if not c['type'].startswith('Attr')
    ]
    return cfg


def step_time(model, optimizer, batch) -> float:
    start = time.perf_counter()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


def main():
    args = parse_args()
    register_all_modules(init_default_scope=True)
    MMLogger.get_instance('mmengine', log_level='WARNING')
    cfg = Config.fromfile(args.config)
    data_root = args.data_root or osp.join(REPO, 'data', 'shapes')
    tmp = None
    if not osp.isfile(osp.join(data_root, 'annotations', 'train.json')):
        tmp = tempfile.TemporaryDirectory()
        data_root = osp.join(tmp.name, 'shapes')
        subprocess.run(
            [
                sys.executable,
                osp.join(
                    REPO, 'tools', 'dataset_converters', 'make_shapes.py'
                ),
                data_root,
                '--num-train',
                '64',
                '--num-val',
                '1',
                '--no-progress',
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.data_root = data_root
    dataset = DATASETS.build(ds_cfg)
    bs = cfg.train_dataloader.batch_size
    batches = [
        pseudo_collate(
            [dataset[(i * bs + j) % len(dataset)] for j in range(bs)]
        )
        for i in range(4)
    ]

    torch.manual_seed(0)
    attr_model = MODELS.build(cfg.model)
    attr_model.init_weights()
    stock_model = MODELS.build(stock_model_cfg(cfg.model))
    missing, _ = (
        stock_model.load_state_dict(attr_model.state_dict(), strict=False),
        None,
    )
    assert not missing.missing_keys, missing.missing_keys
    models = dict(attr=attr_model, stock=stock_model)
    optims = {
        k: torch.optim.AdamW(m.parameters(), lr=1e-4)
        for k, m in models.items()
    }
    for m in models.values():
        m.train()

    times = dict(attr=[], stock=[])
    for i in range(args.warmup + args.steps):
        batch = batches[i % len(batches)]
        for name in ('attr', 'stock') if i % 2 == 0 else ('stock', 'attr'):
            t = step_time(models[name], optims[name], batch)
            if i >= args.warmup:
                times[name].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = statistics.median(
        a / s for a, s in zip(times['attr'], times['stock'])
    )
    print(
        f'training step, batch {bs}, {args.steps} interleaved steps each '
        f'({torch.get_num_threads()} threads)'
    )
    print(
        f'  stock mmdet Mask2Former : {med["stock"] * 1000:8.1f} ms '
        '(median)'
    )
    print(
        f'  attribute Mask2Former   : {med["attr"] * 1000:8.1f} ms ' '(median)'
    )
    print(f'  ratio of the medians    : {med["attr"] / med["stock"]:8.3f}')
    print(
        f'  ratio attr / stock      : {ratio:8.3f} '
        '(median of per-step ratios; target <= 1.03)'
    )
    if tmp is not None:
        tmp.cleanup()
    if ratio > 1.03:
        sys.exit('step-time ratio above the 1.03 target')


if __name__ == '__main__':
    main()
