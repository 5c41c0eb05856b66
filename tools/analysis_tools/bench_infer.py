"""Inference time per image: AttrInferencer against mmdet's DetInferencer.

Both models are built from the same config (the attribute model as is, the
stock one with mmdet's ``Mask2FormerHead``/``MaskFormerFusionHead``, see
``stock_config.py``), start from the same weights and are saved as
checkpoints with ``meta.dataset_meta`` as the Runner writes it. Each is then
loaded by its inferencer (:class:`mmmultilabel.apis.AttrInferencer`, mmdet's
``DetInferencer``) and run on the same images of the shapes val split
(``data/shapes/val``, or a set generated in a temporary folder), one image
per call, batch size 1, returning the data samples: no drawing, no file
written. After a few untimed images per side, every image of every round
runs on both sides back to back, the first side alternating from image to
image and from round to round, so that both see the same machine load.
Printed: the median time per image of each side; the median over the
(image, round) pairs of the ratio attr / stock, the measure that the target
applies to (a per-pair ratio is not thrown off by images with more
instances or by a slow minute of the machine); and the same for CPU time.
The exit status is 1 when the ratio exceeds ``--target``.

Example:
    python tools/analysis_tools/bench_infer.py --images 60 --rounds 5
"""

import argparse
import gc
import glob
import os.path as osp
import statistics
import sys
import tempfile
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmdet.apis import DetInferencer
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MMLogger

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.apis import AttrInferencer
from mmmultilabel.apis.inferencer import ANNOTATION_LOADERS

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_utils import DEFAULT_CONFIG, REPO, make_shapes, timed  # noqa: E402
from stock_config import stock_config  # noqa: E402

SIDES = ('attr', 'stock')
#: Keyword arguments of every inferencer call: data samples returned,
#: nothing drawn or written.
CALL_KWARGS = dict(
    batch_size=1,
    return_datasamples=True,
    no_save_vis=True,
    no_save_pred=True,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='attribute model config (default: CPU config)',
    )
    parser.add_argument(
        '--data-root',
        default=None,
        help='shapes data whose val/ folder holds the images (default: '
        'data/shapes, or a set generated in a temporary folder)',
    )
    parser.add_argument(
        '--images',
        type=int,
        default=60,
        help='timed images per round (default: 60)',
    )
    parser.add_argument(
        '--rounds',
        type=int,
        default=5,
        help='passes over the images (default: 5)',
    )
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed images per side (default: 3)',
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help="torch threads (default: torch's); 1 is steadier on a shared "
        'machine, where threads waiting for each other slow both sides',
    )
    parser.add_argument(
        '--target',
        type=float,
        default=1.05,
        help='largest ratio attr / stock; exit 1 above it (default: 1.05)',
    )
    return parser.parse_args(argv)


def stock_inference_config(cfg: Config) -> Config:
    """The stock counterpart of ``cfg`` with a test pipeline mmdet's
    ``DetInferencer`` runs as is: the annotation loaders dropped (as
    ``AttrInferencer`` drops them) and mmdet's ``PackDetInputs``."""
    stock = stock_config(cfg)
    pipeline = [
        dict(t)
        for t in stock.test_dataloader.dataset.pipeline
        if t['type'] not in ANNOTATION_LOADERS
    ]
    for t in pipeline:
        if t['type'].rsplit('.', 1)[-1] == 'PackAttrDetInputs':
            t['type'] = 'mmdet.PackDetInputs'
    stock.test_dataloader.dataset.pipeline = pipeline
    return stock


def save_checkpoints(cfg: Config, stock_cfg: Config, out_dir: str) -> dict:
    """Both models, from the same initial weights, saved as the Runner
    saves them (``meta.cfg``, ``meta.dataset_meta``, ``state_dict``).

    Returns:
        dict: ``{side: checkpoint path}``.
    """
    # what the Runner stores: its training data set's metainfo (classes,
    # attribute groups, palette if any), read without loading the file
    dataset_meta = DATASETS.build(
        dict(cfg.train_dataloader.dataset, lazy_init=True)
    ).metainfo
    torch.manual_seed(0)
    attr = MODELS.build(cfg.model)
    attr.init_weights()
    state = attr.state_dict()
    stock = MODELS.build(stock_cfg.model)
    missing = stock.load_state_dict(state, strict=False)
    assert not missing.missing_keys, missing.missing_keys
    paths = {}
    for side, model, side_cfg in (
        ('attr', attr, cfg),
        ('stock', stock, stock_cfg),
    ):
        paths[side] = osp.join(out_dir, f'{side}.pth')
        torch.save(
            dict(
                meta=dict(cfg=side_cfg.pretty_text, dataset_meta=dataset_meta),
                state_dict=model.state_dict(),
            ),
            paths[side],
        )
    return paths


def val_images(data_root: Optional[str], num: int, tmp: str) -> List[str]:
    """The first ``num`` images (by name) of ``<data_root>/val``; without
    ``data_root``, of ``data/shapes/val`` or else of a shapes set
    generated under ``tmp``."""
    if data_root is None:
        data_root = osp.join(REPO, 'data', 'shapes')
        if not glob.glob(osp.join(data_root, 'val', '*.png')):
            data_root = osp.join(tmp, 'shapes')
            make_shapes(data_root, num_train=1, num_val=num)
    img_dir = osp.join(data_root, 'val')
    images = sorted(
        p
        for p in glob.glob(osp.join(img_dir, '*'))
        if p.lower().endswith(('.png', '.jpg', '.jpeg'))
    )
    if len(images) < num:
        sys.exit(
            f'{img_dir} holds {len(images)} images, fewer than --images '
            f'{num}: lower --images or generate more with '
            'tools/dataset_converters/make_shapes.py'
        )
    return images[:num]


def run_rounds(
    infer: Dict[str, Callable[[str], object]],
    images: List[str],
    rounds: int,
    warmup: int,
) -> Tuple[Dict[str, List[float]], Dict[str, List[float]]]:
    """Per side, the wall-clock and CPU seconds of every (round, image),
    in the same order on both sides (so paired)."""
    for image in images[:warmup]:
        for side in SIDES:
            infer[side](image)
    wall: Dict[str, List[float]] = {side: [] for side in SIDES}
    cpu: Dict[str, List[float]] = {side: [] for side in SIDES}
    for r in range(rounds):
        for i, image in enumerate(images):
            first = (r + i) % len(SIDES)
            for side in SIDES[first:] + SIDES[:first]:
                t, c = timed(lambda: infer[side](image))  # noqa: B023
                wall[side].append(t)
                cpu[side].append(c)
    return wall, cpu


def summarize(
    wall: Dict[str, List[float]], cpu: Dict[str, List[float]]
) -> Dict[str, float]:
    """Medians of paired timings.

    Args:
        wall, cpu (dict[str, list[float]]): ``{'attr': [...], 'stock':
            [...]}`` seconds per call; the k-th entries of the two sides
            are the same image in the same round.

    Returns:
        dict: ``attr`` and ``stock`` (median wall-clock seconds per image),
        ``ratio`` and ``cpu_ratio`` (medians of the per-pair ratios attr /
        stock).
    """
    return dict(
        attr=statistics.median(wall['attr']),
        stock=statistics.median(wall['stock']),
        ratio=statistics.median(
            a / s for a, s in zip(wall['attr'], wall['stock'])
        ),
        cpu_ratio=statistics.median(
            a / s for a, s in zip(cpu['attr'], cpu['stock'])
        ),
    )


def report(summary: Dict[str, float], target: float) -> int:
    """Print the summary; 1 if the ratio exceeds ``target``, else 0."""
    print(
        f'  stock mmdet DetInferencer : {summary["stock"] * 1000:8.1f} ms '
        '(median per image)'
    )
    print(
        f'  AttrInferencer            : {summary["attr"] * 1000:8.1f} ms '
        '(median per image)'
    )
    print(
        f'  ratio of the medians      : '
        f'{summary["attr"] / summary["stock"]:8.3f}'
    )
    print(
        f'  ratio attr / stock        : {summary["ratio"]:8.3f} (median of '
        f'per-image ratios; target <= {target})'
    )
    print(
        f'  CPU-time ratio            : {summary["cpu_ratio"]:8.3f} '
        '(steadier on a shared machine)'
    )
    if summary['ratio'] > target:
        print(f'inference-time ratio above the {target} target')
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=True)
    MMLogger.get_instance('mmengine', log_level='WARNING')
    cfg = Config.fromfile(args.config)
    stock_cfg = stock_inference_config(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        images = val_images(args.data_root, args.images, tmp)
        ckpts = save_checkpoints(cfg, stock_cfg, tmp)
        inferencers = dict(
            attr=AttrInferencer(
                cfg, ckpts['attr'], device='cpu', show_progress=False
            ),
            stock=DetInferencer(
                stock_cfg, ckpts['stock'], device='cpu', show_progress=False
            ),
        )
        infer = {
            side: (lambda image, f=f: f(image, **CALL_KWARGS))
            for side, f in inferencers.items()
        }
        # the models and modules are never garbage: out of the collector's
        # reach, the collection before every call takes milliseconds
        gc.collect()
        gc.freeze()
        wall, cpu = run_rounds(infer, images, args.rounds, args.warmup)
    print(
        f'inference, batch 1, {args.images} images x {args.rounds} '
        f'rounds, sides alternated ({torch.get_num_threads()} threads), '
        f'{osp.basename(args.config)}'
    )
    return report(summarize(wall, cpu), args.target)


if __name__ == '__main__':
    sys.exit(main())
