"""Write predictions as Label Studio tasks with ``predictions``
(pre-annotations), and the labelling config of a project that shows them.

Each image record of the inferencer (``docs/inference.md``: ``image``,
``height``, ``width``, ``instances`` with ``category``, ``score``, ``mask``
(COCO RLE) and ``attributes``) becomes one task::

    {"data": {"image": "/data/local-files/?d=a.jpg"},
     "predictions": [{"model_version": "...", "score": <mean score>,
                      "result": [<region>, <choices>, ...]}]}

Per instance: one region result (``brushlabels`` with the mask as brush
RLE, or ``polygonlabels`` with the outline of its largest part in percent)
with ``original_width``/``original_height``, its label and its ``score``;
then one per-region ``choices`` result per known attribute group, linked by
the region's ``id``, its ``score`` the probability of the value (the
lowest one of the values of a multi-label group). Unknown groups, and
multi-label groups with no value present, have no result: Label Studio
cannot show "known, none of them".
"""

import os
import os.path as osp
from typing import List, Mapping, Optional, Sequence, Tuple

import cv2
import mmengine
import numpy as np
import pycocotools.mask as mask_utils

from mmmultilabel.utils import InputError

from .brush import mask_to_rle
from .config import IMAGE_NAME, LABELS_NAME, write_label_config

#: Region result types that the writer can produce.
REGION_OUTPUTS = ('brushlabels', 'polygonlabels')
#: Names of the files written into the export folder.
TASKS_FILE = 'tasks.json'
CONFIG_FILE = 'label_config.xml'


def mask_outline(mask: np.ndarray) -> Optional[np.ndarray]:
    """Outer contour of the largest part of a mask, shape (K, 2) as x, y
    pixel coordinates; None when it has fewer than 3 points."""
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    return largest.reshape(-1, 2) if len(largest) >= 3 else None  # (K,1,2)


def _region_value(
    mask: np.ndarray, region: str, height: int, width: int
) -> Optional[dict]:
    if region == 'brushlabels':
        return dict(format='rle', rle=mask_to_rle(mask))
    outline = mask_outline(mask)
    if outline is None:
        return None
    points = outline * [100.0 / width, 100.0 / height]
    return dict(points=points.round(4).tolist(), closed=True)


def record_to_task(
    record: Mapping,
    groups: Sequence[Mapping],
    region: str = 'brushlabels',
    model_version: str = 'mmmultilabel',
    image_prefix: str = '/data/local-files/?d=',
) -> dict:
    """One Label Studio task with the predictions of one image.

    Args:
        record (Mapping): Inferencer record (module doc).
        groups (Sequence[Mapping]): Attribute groups ``{name, values,
            multi_label}`` of the model.
        region (str): ``'brushlabels'`` or ``'polygonlabels'``.
        model_version (str): ``model_version`` of the prediction.
        image_prefix (str): Put before the image's file name in
            ``data``; Label Studio serves ``/data/local-files/?d=<path>``
            from its local files root.

    Returns:
        dict: The task.
    """
    height, width = int(record['height']), int(record['width'])
    base = dict(
        to_name=IMAGE_NAME,
        original_width=width,
        original_height=height,
        image_rotation=0,
    )
    results, scores = [], []
    for k, inst in enumerate(record['instances']):
        if inst.get('mask') is None:
            continue
        rle = dict(inst['mask'])
        mask = mask_utils.decode(rle).astype(bool)  # (H, W)
        value = _region_value(mask, region, height, width)
        if value is None:
            continue
        region_id = f'inst{k}'
        value[region] = [inst['category']]
        results.append(
            dict(
                id=region_id,
                type=region,
                from_name=LABELS_NAME,
                value=value,
                score=float(inst['score']),
                **base,
            )
        )
        scores.append(float(inst['score']))
        for g in groups:
            pred = (inst.get('attributes') or {}).get(g['name']) or {}
            chosen = pred.get('value')
            if chosen is None or chosen == []:
                continue
            chosen = chosen if isinstance(chosen, list) else [chosen]
            score = pred.get('score')
            score = min(score) if isinstance(score, list) else score
            results.append(
                dict(
                    id=region_id,
                    type='choices',
                    from_name=g['name'],
                    value=dict(choices=list(chosen)),
                    score=float(score),
                    **base,
                )
            )
    image = osp.basename(record.get('image') or '')
    return dict(
        data={IMAGE_NAME: image_prefix + image},
        predictions=[
            dict(
                model_version=model_version,
                score=float(np.mean(scores)) if scores else 0.0,
                result=results,
            )
        ],
    )


def write_label_studio(
    records: Sequence[Mapping],
    export_dir: str,
    dataset_meta: Mapping,
    region: str = 'brushlabels',
    model_version: str = 'mmmultilabel',
    image_prefix: str = '/data/local-files/?d=',
) -> Tuple[str, str]:
    """Write ``tasks.json`` and ``label_config.xml`` into ``export_dir``.

    Args:
        records (Sequence[Mapping]): Inferencer records, one per image.
        export_dir (str): Output folder (created).
        dataset_meta (Mapping): ``classes`` and ``attribute_groups`` of the
            model (a group's ``categories`` limits its choices to them).
        region (str): ``'brushlabels'`` (exact masks) or
            ``'polygonlabels'`` (the outline of each mask's largest part).
        model_version (str): ``model_version`` of the predictions.
        image_prefix (str): See :func:`record_to_task`.

    Returns:
        tuple[str, str]: Paths of the tasks file and the config.

    Raises:
        InputError: if a file to write exists already, or ``region`` is
            unknown.
    """
    if region not in REGION_OUTPUTS:
        raise InputError(
            f'region must be one of {REGION_OUTPUTS}, got {region!r}'
        )
    paths = [osp.join(export_dir, n) for n in (TASKS_FILE, CONFIG_FILE)]
    existing = [p for p in paths if osp.exists(p)]
    if existing:
        raise InputError(
            f'{existing} exist; remove them or choose another export folder'
        )
    groups: List[dict] = list(dataset_meta.get('attribute_groups') or [])
    tasks = [
        record_to_task(r, groups, region, model_version, image_prefix)
        for r in records
    ]
    os.makedirs(export_dir, exist_ok=True)
    mmengine.dump(tasks, paths[0], indent=1)
    with open(paths[1], 'w', encoding='utf-8') as f:
        f.write(
            write_label_config(
                list(dataset_meta['classes']), groups, region_type=region
            )
        )
    return paths[0], paths[1]
