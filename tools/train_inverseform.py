"""Train the IF-Net of the InverseForm loss on a data set's own boundaries.

No download is needed: every training pair is made from the data set's
ground truth. A random window of a label map gives the target boundary
tile; the same window seen through a random affine warp ``A`` (as a
spatial transformer samples it), softened like a prediction, gives the
"predicted" tile; the network learns to regress ``log(A)`` (see
:mod:`mmmultilabel.models.losses.inverseform_net`). Half of the windows
show one instance (or one class) as a 0/1 mask, as the attribute
Mask2Former's boundary term sees its matched masks; the others show the
whole label map, as a semantic segmentation decode head does.

SOURCE is a COCO instance annotation file (attribute COCO included) or a
folder of label PNGs (``tools/dataset_converters/shapes2semseg.py`` writes
them). A part of the maps (``--val-fraction``) is held out; the tool prints
the regression error, the distance the trained network gives to known
shifts and scalings of held-out boundaries, and what is left of the 4-pixel
shift's distance after small changes of the predicted map chosen to lower
it (``shift_4px_attacked``), and stores them in the checkpoint. The
checkpoint loads on a CPU (``map_location='cpu'``); ``--init`` continues
training from one.

``--zoom-range`` should cover how the loss will tile images: a loss with
``grid=(gh, gw)`` on H x W label maps sees ``H / gh`` image pixels per
``tile-size`` tile pixels, a zoom of ``H / (gh * tile_size)``.

Example:
    python tools/train_inverseform.py data/shapes/annotations/train.json \
        --out work_dirs/inverseform/ifnet_shapes.pth --iters 3000
"""

import argparse
import json
import math
import os
import os.path as osp
import random
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from mmmultilabel.models.losses.inverseform_loss import (
    label_boundaries,
    probability_boundaries,
)
from mmmultilabel.models.losses.inverseform_net import (
    InverseFormNet,
    affine_from_generator,
    random_generators,
)

# A label map, its number of classes, and its instance map (0 = none).
LabelMap = Tuple[Tensor, int, Optional[Tensor]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train the InverseForm IF-Net on the ground-truth '
        'boundaries of a data set (COCO annotations or label PNGs)'
    )
    parser.add_argument(
        'source', help='COCO annotation .json file or folder of label PNGs'
    )
    parser.add_argument(
        '--out',
        default='work_dirs/inverseform/ifnet.pth',
        help='checkpoint to write (default: %(default)s)',
    )
    parser.add_argument(
        '--tile-size',
        type=int,
        default=64,
        help='tile side S in pixels, a multiple of 16 (default: 64)',
    )
    parser.add_argument(
        '--zoom-range',
        type=float,
        nargs=2,
        default=(1.0, 2.0),
        metavar=('MIN', 'MAX'),
        help='image pixels per tile pixel (default: 1 2)',
    )
    parser.add_argument('--iters', type=int, default=3000)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument(
        '--instance-prob',
        type=float,
        default=0.5,
        help='fraction of windows showing one instance (or class) as a 0/1 '
        'mask (default: 0.5)',
    )
    parser.add_argument(
        '--max-translation',
        type=float,
        default=0.3,
        help='largest shift, tile-normalised: 1.0 is half a tile '
        '(default: 0.3)',
    )
    parser.add_argument('--max-rotation', type=float, default=0.3)
    parser.add_argument('--max-log-scale', type=float, default=0.25)
    parser.add_argument('--max-shear', type=float, default=0.1)
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=0.1,
        help='label maps held out for the final report (default: 0.1)',
    )
    parser.add_argument(
        '--ignore-index',
        type=int,
        default=255,
        help='label PNG value of ignored pixels, read as background',
    )
    parser.add_argument(
        '--init',
        help='start from this IF-Net checkpoint (fine-tuning); its '
        'architecture replaces --tile-size, --channels and --hidden',
    )
    parser.add_argument('--channels', type=int, default=16)
    parser.add_argument('--hidden', type=int, default=256)
    parser.add_argument(
        '--eval-samples',
        type=int,
        default=256,
        help='held-out pairs per line of the final report (default: 256)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--log-interval', type=int, default=200)
    return parser.parse_args(argv)


def load_coco_maps(ann_file: str) -> List[LabelMap]:
    """Semantic and instance maps of every image of a COCO file.

    Categories become 1..K in the order of ``categories``; instances are
    painted in annotation order (later ones on top); crowd regions are
    left as background.
    """
    from pycocotools.coco import COCO

    coco = COCO(ann_file)
    cat_ids = [cat['id'] for cat in coco.dataset.get('categories', [])]
    if not cat_ids:
        raise ValueError(f'{ann_file} has no categories')
    cat_to_label = {cat_id: i + 1 for i, cat_id in enumerate(cat_ids)}
    maps = []
    for img_id in sorted(coco.getImgIds()):
        info = coco.imgs[img_id]
        semantic = np.zeros((info['height'], info['width']), np.uint8)
        instances = np.zeros_like(semantic, dtype=np.int32)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id], iscrowd=False))
        for i, ann in enumerate(anns, start=1):
            if ann['category_id'] not in cat_to_label:
                raise ValueError(
                    f'{ann_file}: annotation {ann["id"]} has category_id '
                    f'{ann["category_id"]}, not in categories {cat_ids}'
                )
            mask = coco.annToMask(ann).astype(bool)
            semantic[mask] = cat_to_label[ann['category_id']]
            instances[mask] = i
        maps.append(
            (
                torch.from_numpy(semantic).long(),
                len(cat_ids) + 1,
                torch.from_numpy(instances).long(),
            )
        )
    return maps


def load_png_maps(folder: str, ignore_index: int) -> List[LabelMap]:
    """Label maps of every PNG under ``folder`` (ignored pixels -> 0)."""
    paths = sorted(
        osp.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.lower().endswith('.png')
    )
    if not paths:
        raise ValueError(f'no label .png files under {folder}')
    labels = []
    for path in paths:
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2:
            raise ValueError(
                f'{path} is not a single-channel label PNG (class index '
                'per pixel)'
            )
        label = label.astype(np.int64)
        label[label == ignore_index] = 0
        labels.append(torch.from_numpy(label))
    num_classes = int(max(int(label.max()) for label in labels)) + 1
    return [(label, max(num_classes, 2), None) for label in labels]


def load_maps(source: str, ignore_index: int) -> List[LabelMap]:
    if osp.isdir(source):
        return load_png_maps(source, ignore_index)
    if osp.isfile(source) and source.endswith('.json'):
        return load_coco_maps(source)
    raise FileNotFoundError(
        f'{source} is neither a COCO annotation .json file nor a folder of '
        'label PNGs'
    )


def _pick_mask(
    item: LabelMap, instance_prob: float, rng: random.Random
) -> Tuple[Tensor, int]:
    """The whole label map, or one instance (class) of it as a 0/1 mask."""
    label, num_classes, instances = item
    if rng.random() >= instance_prob:
        return label, num_classes
    ids = instances if instances is not None else label
    present = [int(i) for i in ids.unique() if i > 0]
    if not present:
        return label, num_classes
    return (ids == rng.choice(present)).long(), 2


def _window_grid(
    height: int,
    width: int,
    center: Tuple[float, float],
    side: float,
    affine: Tensor,
    tile_size: int,
) -> Tensor:
    """``grid_sample`` grid of a square window, seen through ``affine``.

    Args:
        height (int): Image height in pixels.
        width (int): Image width in pixels.
        center (tuple[float, float]): Window centre (x, y) in pixels.
        side (float): Window side in image pixels.
        affine (Tensor): Shape (2, 3), on tile-normalised coordinates.
        tile_size (int): Output side S.

    Returns:
        Tensor: Shape (1, S, S, 2) in image-normalised coordinates.
    """
    # (1, S, S, 2) tile-normalised coordinates, transformed by ``affine``
    tile = F.affine_grid(
        affine[None], (1, 1, tile_size, tile_size), align_corners=False
    )
    pixels_x = center[0] + tile[..., 0] * side / 2
    pixels_y = center[1] + tile[..., 1] * side / 2
    return torch.stack(
        [2 * pixels_x / width - 1, 2 * pixels_y / height - 1], dim=-1
    )


def make_pair(
    mask: Tensor,
    num_classes: int,
    generator: Tensor,
    tile_size: int,
    zoom: float,
    rng: random.Random,
) -> Tuple[Tensor, Tensor]:
    """A (predicted, target) boundary tile pair with ``pred = target o A``.

    Args:
        mask (Tensor): Label map or 0/1 mask, shape (H, W).
        num_classes (int): Classes of ``mask``.
        generator (Tensor): ``log(A)``, shape (2, 3).
        tile_size (int): Tile side S.
        zoom (float): Image pixels per tile pixel.
        rng (random.Random): Picks the window and the softening.

    Returns:
        tuple[Tensor, Tensor]: Soft predicted and binary target boundary
        tiles, each of shape (1, 1, S, S).
    """
    height, width = mask.shape
    side = tile_size * zoom
    centre = []
    for extent in (width, height):
        low, high = side / 2, extent - side / 2
        centre.append(rng.uniform(low, high) if high > low else extent / 2)
    identity = torch.eye(2, 3)
    affine = affine_from_generator(generator[None])[0]
    # (H, W) -> (1, 1, S, S) class indices, unwarped
    label_tile = F.grid_sample(
        mask[None, None].float(),
        _window_grid(height, width, centre, side, identity, tile_size),
        mode='nearest',
        padding_mode='border',
        align_corners=False,
    )
    target = label_boundaries(label_tile[:, 0].long(), num_classes)
    # (H, W) -> (1, K, H, W) -> (1, K, S, S) probabilities, warped
    one_hot = F.one_hot(mask, num_classes).permute(2, 0, 1)[None].float()
    probs = F.grid_sample(
        one_hot,
        _window_grid(height, width, centre, side, affine, tile_size),
        mode='bilinear',
        padding_mode='border',
        align_corners=False,
    )
    probs = _soften(probs, rng)
    if num_classes == 2:
        # a sigmoid mask, as the instance heads predict
        probs = probs[:, 1:]
    return probability_boundaries(probs), target


def _soften(probs: Tensor, rng: random.Random) -> Tensor:
    """Make warped one-hot maps look like predicted probabilities."""
    if rng.random() < 0.5:
        size = rng.choice([3, 5])
        probs = F.avg_pool2d(
            F.pad(probs, [size // 2] * 4, mode='replicate'), size, stride=1
        )
    mix = rng.uniform(0.0, 0.3)
    return probs * (1 - mix) + mix / probs.shape[1]


def make_batch(
    maps: Sequence[LabelMap],
    generators: Tensor,
    args: argparse.Namespace,
    rng: random.Random,
) -> Tuple[Tensor, Tensor]:
    """Boundary tile pairs for ``generators`` (N, 2, 3), random windows."""
    preds, targets = [], []
    for generator in generators:
        mask, num_classes = _pick_mask(
            maps[rng.randrange(len(maps))], args.instance_prob, rng
        )
        zoom = rng.uniform(*args.zoom_range)
        pred, target = make_pair(
            mask, num_classes, generator, args.tile_size, zoom, rng
        )
        preds.append(pred)
        targets.append(target)
    return torch.cat(preds), torch.cat(targets)


def regression_loss(
    net: InverseFormNet, pred: Tensor, target: Tensor, generators: Tensor
) -> Tensor:
    """MSE of the regressed generators; tiles without target boundary are
    left out (there is nothing to align)."""
    has_gt = target.flatten(1).amax(dim=1) > 0
    error = (net(pred, target) - generators).square().flatten(1).mean(dim=1)
    return (error * has_gt).sum() / has_gt.sum().clamp(min=1)


def perturb(
    net: InverseFormNet, pred: Tensor, target: Tensor, steps: int, eps: float
) -> Tensor:
    """Predicted boundary tiles changed to look aligned to the net.

    A segmentation model trained through the frozen net can lower the
    distance by changes that move no boundary. This searches such changes
    (signed-gradient steps, each pixel within ``eps``); the final report
    gives the distance that is left.

    Args:
        net (InverseFormNet): The network being trained.
        pred (Tensor): Predicted boundary tiles (N, 1, S, S) in [0, 1].
        target (Tensor): Target boundary tiles (N, 1, S, S).
        steps (int): Number of steps.
        eps (float): Largest change per pixel.

    Returns:
        Tensor: The perturbed tiles, detached, in [0, 1].
    """
    delta = (torch.rand_like(pred) * 2 - 1) * eps / 2
    step = 2.5 * eps / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        dist = net.distance((pred + delta).clamp(0, 1), target).sum()
        (grad,) = torch.autograd.grad(dist, delta)
        delta = (delta.detach() - step * grad.sign()).clamp(-eps, eps)
    return (pred + delta).clamp(0, 1).detach()


@torch.no_grad()
def evaluate(
    net: InverseFormNet,
    maps: Sequence[LabelMap],
    args: argparse.Namespace,
) -> Dict[str, float]:
    """Regression error on held-out random warps, and the distance the net
    gives to known shifts and scalings of held-out boundaries."""
    net.eval()
    num = args.eval_samples
    rng = random.Random(args.seed + 1)
    gen = torch.Generator().manual_seed(args.seed + 1)
    generators = _random_generators(num, args, gen)
    pred, target = make_batch(maps, generators, args, rng)
    has_gt = target.flatten(1).amax(dim=1) > 0
    found = net(pred, target)[has_gt]
    truth = generators[has_gt]
    report = dict(
        rmse=float((found - truth).square().mean().sqrt()),
        true_mean_norm=float(truth.flatten(1).norm(dim=1).mean()),
    )
    # One shift or scaling at a time, in pixels of the tile.
    probes = {f'shift_{px}px': (px, 0.0) for px in (0, 1, 2, 4, 8)}
    probes.update({f'scale_{s}': (0, s) for s in (1.05, 1.1, 1.2)})
    for name, (shift, scale) in probes.items():
        gens = torch.zeros(num, 2, 3)
        if shift:
            angle = torch.rand(num, generator=gen) * 2 * math.pi
            gens[:, 0, 2] = 2 * shift / args.tile_size * angle.cos()
            gens[:, 1, 2] = 2 * shift / args.tile_size * angle.sin()
        if scale:
            gens[:, 0, 0] = gens[:, 1, 1] = math.log(scale)
        pred, target = make_batch(maps, gens, args, random.Random(1))
        has_gt = target.flatten(1).amax(dim=1) > 0
        report[name] = float(net.distance(pred, target)[has_gt].mean())
        report[name + '_true'] = float(gens[0].norm())
        if name == 'shift_4px':
            # How far texture changes alone can pull the distance down.
            with torch.enable_grad():
                attacked = perturb(net, pred, target, 10, 0.3)
            report[name + '_attacked'] = float(
                net.distance(attacked, target)[has_gt].mean()
            )
    return report


def _random_generators(
    num: int, args: argparse.Namespace, gen: torch.Generator
) -> Tensor:
    return random_generators(
        num,
        max_translation=args.max_translation,
        max_rotation=args.max_rotation,
        max_log_scale=args.max_log_scale,
        max_shear=args.max_shear,
        generator=gen,
    )


def train(args: argparse.Namespace) -> Tuple[InverseFormNet, dict]:
    """Train an IF-Net as the arguments say; return it and its report."""
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    maps = load_maps(args.source, args.ignore_index)
    order = list(range(len(maps)))
    rng.shuffle(order)
    num_val = int(len(maps) * args.val_fraction)
    if num_val and len(maps) - num_val >= 1:
        val_maps = [maps[i] for i in order[:num_val]]
        train_maps = [maps[i] for i in order[num_val:]]
    else:
        val_maps = train_maps = maps
    print(
        f'{len(train_maps)} label maps for training, {len(val_maps)} held '
        f'out, from {args.source}'
    )

    if args.init:
        net, _ = InverseFormNet.from_checkpoint(args.init)
        net.train()
        args.tile_size = net.tile_size
    else:
        net = InverseFormNet(args.tile_size, args.channels, args.hidden)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.iters, pct_start=0.05
    )
    start = time.time()
    running = 0.0
    for it in tqdm(range(1, args.iters + 1), desc='IF-Net', unit='iter'):
        generators = _random_generators(args.batch_size, args, gen)
        pred, target = make_batch(train_maps, generators, args, rng)
        loss = regression_loss(net, pred, target, generators)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        running += loss.item()
        if it % args.log_interval == 0 or it == args.iters:
            count = (it - 1) % args.log_interval + 1
            tqdm.write(
                f'iter {it}/{args.iters}  mse {running / count:.5f}  '
                f'lr {scheduler.get_last_lr()[0]:.2e}  '
                f'{time.time() - start:.0f}s'
            )
            running = 0.0
    report = evaluate(net, val_maps, args)
    meta = dict(
        source=args.source,
        iters=args.iters,
        batch_size=args.batch_size,
        zoom_range=list(args.zoom_range),
        instance_prob=args.instance_prob,
        max_translation=args.max_translation,
        max_rotation=args.max_rotation,
        max_log_scale=args.max_log_scale,
        max_shear=args.max_shear,
        seed=args.seed,
        init=args.init,
        held_out=report,
    )
    return net.eval(), meta


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.tile_size < 16 or args.tile_size % 16:
        sys.exit(
            f'error: --tile-size must be a multiple of 16, got '
            f'{args.tile_size}'
        )
    if not 0 < args.zoom_range[0] <= args.zoom_range[1]:
        sys.exit(
            f'error: --zoom-range needs 0 < MIN <= MAX, got '
            f'{args.zoom_range}'
        )
    try:
        net, meta = train(args)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(
        'held-out report (distance = ||log A||_F; *_true is the exact '
        'value):'
    )
    print(json.dumps(meta['held_out'], indent=2))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    net.save(args.out, meta)
    print(f'IF-Net checkpoint saved to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
