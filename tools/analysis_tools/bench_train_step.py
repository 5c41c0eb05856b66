"""Training step time: attribute Mask2Former against mmdet's stock one.

Both models are built from the same config (the attribute model as is, the
stock one with mmdet's ``Mask2FormerHead``/``MaskFormerFusionHead`` and
without attribute costs), start from the same weights, and train on the same
batches. Each model is built twice, in the order attr, stock, stock, attr,
so that neither gains from where its tensors were allocated. Every step
runs the four copies back to back on one batch, in an order rotated from
step to step, so all see the same batch and the same machine load.
Printed: the median step time of each model; the median over steps of the
ratio (attr + attr copy) / (stock + stock copy), the measure that the 1.03
target applies to (a per-step ratio is not thrown off by batches of
different sizes or by a slow minute of the machine); and the same ratio for
the two identical stock copies, which shows the noise of the measurement.

Example:
    python tools/analysis_tools/bench_train_step.py --steps 30
"""

import argparse
import copy
import os.path as osp
import statistics
import sys
import tempfile

import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger

import mmmultilabel  # noqa: F401  (registers modules)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_utils import DEFAULT_CONFIG, REPO, make_shapes, timed  # noqa: E402
from stock_config import stock_model_cfg  # noqa: E402


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
        default=60,
        help='timed steps per model copy (default: 60)',
    )
    parser.add_argument(
        '--layout',
        choices=['config', 'fashionpedia'],
        default='config',
        help="attribute groups: the config's, or Fashionpedia's width (15 "
        'multi-label groups, 320 values) with random labels on the same '
        'images (default: config)',
    )
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed steps per model (default: 3)',
    )
    return parser.parse_args()


#: Fashionpedia's declared layout: 15 super-categories, 320 values.
FASHIONPEDIA_SIZES = [
    23,
    30,
    13,
    17,
    12,
    42,
    10,
    35,
    20,
    28,
    16,
    25,
    19,
    14,
    16,
]


def wide_layout(cfg, batches, seed: int = 0) -> None:
    """Give the model Fashionpedia's attribute layout and the batches
    random labels of that width, in place: 0/1 per value, a whole group
    unknown (-1) one time in five."""
    groups = [
        dict(
            name=f'group{g}',
            values=[f'v{g}_{k}' for k in range(n)],
            multi_label=True,
        )
        for g, n in enumerate(FASHIONPEDIA_SIZES)
    ]
    for key in ('panoptic_head', 'panoptic_fusion_head'):
        cfg.model[key]['attribute_groups'] = groups
    gen = torch.Generator().manual_seed(seed)
    for batch in batches:
        for sample in batch['data_samples']:
            n = len(sample.gt_instances)
            rows = torch.rand(n, sum(FASHIONPEDIA_SIZES), generator=gen) < 0.02
            rows = rows.long()
            start = 0
            for size in FASHIONPEDIA_SIZES:
                unknown = torch.rand(n, generator=gen) < 0.2
                rows[unknown, start : start + size] = -1
                start += size
            sample.gt_instances.attr_labels = rows


def step_time(model, optimizer, batch) -> tuple:
    """Wall-clock and CPU seconds of one training step, without garbage
    collection in it (:func:`bench_utils.timed`)."""
    return timed(lambda: _step(model, optimizer, batch))


def _step(model, optimizer, batch) -> None:
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


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
        make_shapes(data_root, num_train=64, num_val=1)
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
    if args.layout == 'fashionpedia':
        wide_layout(cfg, batches)

    # Two copies of each model, built in the order attr, stock, stock,
    # attr, so that neither model gains from where its tensors were
    # allocated; the two stock copies also show the measurement's noise.
    torch.manual_seed(0)
    state = None
    models = {}
    for name in ('attr', 'stock', 'stock_copy', 'attr_copy'):
        model_cfg = cfg.model
        if name.startswith('stock'):
            model_cfg = stock_model_cfg(cfg.model)
        model = MODELS.build(model_cfg)
        if state is None:
            model.init_weights()
            state = model.state_dict()
        else:
            missing = model.load_state_dict(state, strict=False)
            assert not missing.missing_keys, missing.missing_keys
        models[name] = model.train()
    optims = {
        k: torch.optim.AdamW(m.parameters(), lr=1e-4)
        for k, m in models.items()
    }

    names = list(models)
    times = {name: [] for name in names}
    cpu_times = {name: [] for name in names}
    for i in range(args.warmup + args.steps):
        batch = batches[i % len(batches)]
        # Every step runs the four models on one batch, in rotated order.
        for name in names[i % 4 :] + names[: i % 4]:
            t, cpu = step_time(models[name], optims[name], batch)
            if i >= args.warmup:
                times[name].append(t)
                cpu_times[name].append(cpu)
    attr = [a + b for a, b in zip(times['attr'], times['attr_copy'])]
    stock = [a + b for a, b in zip(times['stock'], times['stock_copy'])]
    ratio = statistics.median(a / s for a, s in zip(attr, stock))
    cpu_ratio = statistics.median(
        (a + b) / (c + d)
        for a, b, c, d in zip(
            cpu_times['attr'],
            cpu_times['attr_copy'],
            cpu_times['stock'],
            cpu_times['stock_copy'],
        )
    )
    noise = statistics.median(
        a / s for a, s in zip(times['stock_copy'], times['stock'])
    )
    med = dict(
        attr=statistics.median(times['attr'] + times['attr_copy']),
        stock=statistics.median(times['stock'] + times['stock_copy']),
    )
    print(
        f'training step, batch {bs}, {args.steps} rotated steps of two '
        f'copies of each model ({torch.get_num_threads()} threads, CPU '
        f'kernels {torch.backends.cpu.get_cpu_capability()}), '
        f'attribute layout: {args.layout}'
    )
    print(
        f'  stock mmdet Mask2Former : {med["stock"] * 1000:8.1f} ms '
        '(median)'
    )
    print(
        f'  attribute Mask2Former   : {med["attr"] * 1000:8.1f} ms ' '(median)'
    )
    print(f'  ratio of the medians    : {med["attr"] / med["stock"]:8.3f}')
    print(f'  stock copy / stock      : {noise:8.3f} (same model: the noise)')
    print(
        f'  ratio attr / stock      : {ratio:8.3f} '
        '(median of per-step ratios; target <= 1.03, 1.05 for the '
        'fashionpedia layout)'
    )
    print(
        f'  CPU-time ratio          : {cpu_ratio:8.3f} (steadier on a '
        'shared machine)'
    )
    if tmp is not None:
        tmp.cleanup()
    target = 1.03 if args.layout == 'config' else 1.05
    if ratio > target:
        sys.exit(f'step-time ratio above the {target} target')


if __name__ == '__main__':
    main()
