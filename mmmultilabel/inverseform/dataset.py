"""Training and evaluation pairs of the IF-Net from a data set's label maps."""

import os
import os.path as osp
import random
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmdet.registry import DATASETS
from mmengine.dataset import BaseDataset
from pycocotools import mask as mask_utils
from torch import Tensor

from mmmultilabel.datasets.loader import load_attr_coco

from .affine import random_generators
from .pairs import make_pairs, pick_mask, probe_generators

SPLITS = ('train', 'val')


@DATASETS.register_module()
class InverseFormPairDataset(BaseDataset):
    """Boundary tile pairs with known warps, made from ground-truth maps.

    No image is read: every pair comes from a label map (see
    :mod:`mmmultilabel.inverseform.pairs`). Label maps come from a
    COCO instance file (``ann_file``, any form that
    :func:`~mmmultilabel.datasets.load_attr_coco` reads; categories become
    labels 1..K in the order of ``categories``, instances are painted in
    annotation order, crowd regions stay background) or, without
    ``ann_file``, from the label PNGs under ``data_prefix['seg_map_path']``
    (``ignore_index`` pixels read as background). Half of the windows
    (``instance_prob``) show one instance (COCO) or one class (PNGs) as a
    0/1 mask, the others the whole label map.

    ``split`` holds out ``val_fraction`` of the maps (shuffled with
    ``split_seed``), the same maps for both splits. In training each item
    is one random window of one map under one random warp, drawn anew at
    every access. With ``test_mode`` the dataset is a fixed list of
    ``num_samples`` windows (item ``i`` is drawn with seed ``seed + i``),
    each under the warps named in ``metainfo['warps']``: ``'random'`` (a
    random warp) and, with ``probes``, known shifts ``'shift_{t}px'`` and
    scalings ``'scale_{s}'``.

    An item is ``dict(inputs, data_samples)``: ``inputs`` of shape
    (K, 2, S, S), the predicted (channel 0) and target (channel 1) boundary
    tiles of K warps; ``data_samples`` a dict with ``generators`` (K, 2, 3),
    the ``log(A)`` to regress, and ``attack`` (K, ), the warps that the
    evaluation also attacks (``probes['attack']``).

    Args:
        tile_size (int): Tile side S. Defaults to 64.
        zoom_range (Sequence[float]): Image pixels per tile pixel, uniform
            in ``(min, max)``. Defaults to (1.0, 2.0).
        instance_prob (float): Fraction of windows showing one instance (or
            class) as a 0/1 mask. Defaults to 0.5.
        warp_range (dict, optional): Ranges of the random warps, keyword
            arguments of
            :func:`~mmmultilabel.inverseform.affine.random_generators`
            (``max_translation``, ``max_rotation``, ``max_log_scale``,
            ``max_shear``). Defaults to theirs.
        probes (dict, optional): Known warps added to each item:
            ``shifts_px`` (shift lengths in tile pixels, random direction),
            ``scales`` (uniform scale factors) and ``attack`` (names of the
            probes to attack). Defaults to None (the random warp only).
        split (str, optional): ``'train'`` or ``'val'``: the maps kept or
            held out; None for all of them. Defaults to None.
        val_fraction (float): Fraction of maps held out. Defaults to 0.1.
        split_seed (int): Seed of the hold-out shuffle. Defaults to 0.
        num_samples (int, optional): Windows in ``test_mode``. Defaults to
            the number of maps.
        seed (int): First window seed in ``test_mode``. Defaults to 0.
        ignore_index (int): Label PNG value of ignored pixels. Defaults to
            255.
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments
            (``ann_file``, ``data_root``, ``data_prefix``, ``test_mode``...).
    """

    METAINFO: dict = dict(warps=('random',))

    def __init__(
        self,
        tile_size: int = 64,
        zoom_range: Sequence[float] = (1.0, 2.0),
        instance_prob: float = 0.5,
        warp_range: Optional[dict] = None,
        probes: Optional[dict] = None,
        split: Optional[str] = None,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        num_samples: Optional[int] = None,
        seed: int = 0,
        ignore_index: int = 255,
        **kwargs,
    ) -> None:
        if split not in (None,) + SPLITS:
            raise ValueError(
                f'InverseFormPairDataset split must be one of {SPLITS} or '
                f'None, got {split!r}'
            )
        low, high = (float(z) for z in zoom_range)
        if not 0 < low <= high:
            raise ValueError(
                f'InverseFormPairDataset zoom_range needs 0 < min <= max, '
                f'got {tuple(zoom_range)}'
            )
        probes = dict(probes or {})
        unknown = set(probes) - {'shifts_px', 'scales', 'attack'}
        if unknown:
            raise ValueError(
                f'InverseFormPairDataset probes has unknown keys '
                f'{sorted(unknown)}; use shifts_px, scales and attack'
            )
        self.tile_size = tile_size
        self.zoom_range = (low, high)
        self.instance_prob = instance_prob
        self.warp_range = dict(warp_range or {})
        self.shifts_px = tuple(probes.get('shifts_px', ()))
        self.scales = tuple(probes.get('scales', ()))
        self.split = split
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.num_samples = num_samples
        self.seed = seed
        self.ignore_index = ignore_index
        self.num_classes = 0
        warps = ['random'] + [f'shift_{t}px' for t in self.shifts_px]
        warps += [f'scale_{s}' for s in self.scales]
        missing = set(probes.get('attack', ())) - set(warps[1:])
        if missing:
            raise ValueError(
                f'InverseFormPairDataset probes.attack names {sorted(missing)}'
                f', which are not probes; the probes are {warps[1:]}'
            )
        self.attack = torch.tensor(
            [name in probes.get('attack', ()) for name in warps]
        )
        metainfo = dict(kwargs.pop('metainfo', None) or {}, warps=warps)
        kwargs.setdefault('data_prefix', dict(seg_map_path=''))
        super().__init__(metainfo=metainfo, **kwargs)

    # -- label maps -------------------------------------------------------

    def load_data_list(self) -> List[dict]:
        """One entry per label map of the split (per window in test mode).

        Returns:
            list[dict]: Entries with ``height``, ``width`` and either
            ``polygons`` (COCO: ``(label, segmentation)`` per instance) or
            ``seg_map_path``; in test mode also ``seed``.
        """
        maps = self._load_coco() if self.ann_file else self._load_pngs()
        maps = self._hold_out(maps)
        if not self.test_mode:
            return maps
        rng = random.Random(self.seed)
        num = len(maps) if self.num_samples is None else self.num_samples
        return [
            dict(maps[rng.randrange(len(maps))], seed=self.seed + i)
            for i in range(num)
        ]

    def _load_coco(self) -> List[dict]:
        data = load_attr_coco(self.ann_file, backend_args=None)
        cat_ids = [cat['id'] for cat in data['categories']]
        if not cat_ids:
            raise ValueError(f'{self.ann_file} has no categories')
        self.num_classes = len(cat_ids) + 1
        to_label = {cat_id: i + 1 for i, cat_id in enumerate(cat_ids)}
        anns_of = {img['id']: [] for img in data['images']}
        for ann in data['annotations']:
            if not ann.get('iscrowd', 0):
                anns_of[ann['image_id']].append(
                    (to_label[ann['category_id']], ann['segmentation'])
                )
        return [
            dict(
                img_id=img['id'],
                height=img['height'],
                width=img['width'],
                polygons=anns_of[img['id']],
            )
            for img in sorted(data['images'], key=lambda img: img['id'])
        ]

    def _load_pngs(self) -> List[dict]:
        folder = self.data_prefix.get('seg_map_path', '')
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'InverseFormPairDataset: {folder!r} is not a folder of label '
                'PNGs; set ann_file to a COCO file or '
                "data_prefix=dict(seg_map_path='DIR')"
            )
        paths = sorted(
            osp.join(root, name)
            for root, _, names in os.walk(folder)
            for name in names
            if name.lower().endswith('.png')
        )
        if not paths:
            raise ValueError(f'no label .png files under {folder}')
        maps, top = [], 0
        for path in paths:
            label = self._read_png(path)
            top = max(top, int(label.max()))
            maps.append(dict(seg_map_path=path, height=label.shape[0]))
            maps[-1]['width'] = label.shape[1]
        self.num_classes = max(top + 1, 2)
        return maps

    def _read_png(self, path: str) -> np.ndarray:
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2:
            raise ValueError(
                f'{path} is not a single-channel label PNG (class index per '
                'pixel)'
            )
        label = label.astype(np.int64)
        label[label == self.ignore_index] = 0
        return label

    def _hold_out(self, maps: List[dict]) -> List[dict]:
        if self.split is None:
            return maps
        order = list(range(len(maps)))
        random.Random(self.split_seed).shuffle(order)
        num_val = int(len(maps) * self.val_fraction)
        if not num_val or len(maps) - num_val < 1:
            return maps  # too few maps to hold any out: both use all
        keep = order[:num_val] if self.split == 'val' else order[num_val:]
        return [maps[i] for i in keep]

    def label_maps(self, info: dict) -> Tuple[Tensor, Optional[Tensor]]:
        """Class map and instance map (COCO only) of an entry.

        Args:
            info (dict): An entry of :meth:`load_data_list`.

        Returns:
            tuple[Tensor, Tensor | None]: Long tensors of shape (H, W).
        """
        if 'seg_map_path' in info:
            return torch.from_numpy(self._read_png(info['seg_map_path'])), None
        height, width = info['height'], info['width']
        semantic = np.zeros((height, width), np.int64)
        instances = np.zeros((height, width), np.int64)
        for i, (label, segm) in enumerate(info['polygons'], start=1):
            mask = _decode(segm, height, width)
            semantic[mask] = label
            instances[mask] = i
        return torch.from_numpy(semantic), torch.from_numpy(instances)

    # -- pairs ------------------------------------------------------------

    def prepare_data(self, idx: int) -> dict:
        """The K tile pairs of item ``idx`` (see the class docstring)."""
        info = self.get_data_info(idx)
        seed = info.get('seed')
        if seed is None:
            # training: a fresh draw from torch's generator, which the
            # Runner seeds (and the data loader per worker)
            seed = int(torch.randint(2**31 - 1, ()))
        rng = random.Random(seed)
        gen = torch.Generator().manual_seed(seed)
        generators = torch.cat(
            [
                random_generators(1, generator=gen, **self.warp_range),
                probe_generators(
                    self.shifts_px, self.scales, self.tile_size, gen
                ),
            ]
        )
        label, instances = self.label_maps(info)
        mask, num_classes = pick_mask(
            label, self.num_classes, instances, self.instance_prob, rng
        )
        zoom = rng.uniform(*self.zoom_range)
        pred, target = make_pairs(
            mask, num_classes, generators, self.tile_size, zoom, rng
        )
        return dict(
            # (K, 1, S, S) x 2 -> (K, 2, S, S)
            inputs=torch.cat([pred, target], dim=1),
            data_samples=dict(generators=generators, attack=self.attack),
        )


def _decode(segm, height: int, width: int) -> np.ndarray:
    """Boolean mask (H, W) of a COCO polygon list or RLE."""
    if isinstance(segm, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    elif isinstance(segm.get('counts'), list):
        rle = mask_utils.frPyObjects(segm, height, width)
    else:
        rle = segm
    return mask_utils.decode(rle).astype(bool)
