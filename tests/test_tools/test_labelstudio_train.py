"""Label Studio export -> labelstudio2coco.py -> validate -> train -> eval.

The export is built from the shapes set as Label Studio would hold it once
its pre-annotations are accepted: one brush region per instance (uploaded
image names with Label Studio's 8-hex prefix) and its per-region choices.
"""

import json
import sys

import numpy as np
import pycocotools.mask as mask_utils
from tools_utils import CPU_CONFIG, fast_options, run

from mmmultilabel.datasets.label_studio import (
    record_to_task,
    write_label_config,
)


def _export(coco: dict, path) -> None:
    """Write ``coco`` as a Label Studio JSON export with annotations."""
    names = {c['id']: c['name'] for c in coco['categories']}
    tasks = []
    for img in coco['images']:
        h, w = img['height'], img['width']
        instances = []
        for ann in coco['annotations']:
            if ann['image_id'] != img['id']:
                continue
            rle = mask_utils.merge(
                mask_utils.frPyObjects(ann['segmentation'], h, w)
            )
            rle['counts'] = rle['counts'].decode()
            attrs = {
                g: dict(value=v, score=1.0)
                for g, v in ann.get('attributes', {}).items()
            }
            instances.append(
                dict(
                    category=names[ann['category_id']],
                    score=1.0,
                    mask=rle,
                    attributes=attrs,
                )
            )
        record = dict(
            image=img['file_name'], height=h, width=w, instances=instances
        )
        task = record_to_task(
            record, coco['attribute_groups'], image_prefix='/data/upload/4/'
        )
        task['data']['image'] = task['data']['image'].replace(
            '/4/', '/4/0a1b2c3d-'
        )
        task['id'] = img['id']
        task['annotations'] = [dict(id=img['id'], result=task.pop(
            'predictions')[0]['result'])]  # fmt: skip
        tasks.append(task)
    path.write_text(json.dumps(tasks))


def test_label_studio_export_trains_and_evaluates(shapes_root, tmp_path):
    ann_dir = tmp_path / 'annotations'
    config = tmp_path / 'label_config.xml'
    shapes = {}
    for split in ('train', 'val'):
        shapes[split] = json.loads(
            (shapes_root / 'annotations' / f'{split}.json').read_text()
        )
        _export(shapes[split], tmp_path / f'{split}_export.json')
    config.write_text(
        write_label_config(
            [c['name'] for c in shapes['val']['categories']],
            shapes['val']['attribute_groups'],
        )
    )
    for split in ('train', 'val'):
        out = ann_dir / f'{split}.json'
        cmd = ['tools/dataset_converters/labelstudio2coco.py']
        cmd += [tmp_path / f'{split}_export.json', out, '--no-progress']
        cmd += ['--label-config', config, '--img-dir', shapes_root / split]
        proc = run([sys.executable, *cmd])
        assert 'brushlabels' in proc.stdout
        run(
            [
                sys.executable,
                'tools/misc/validate_dataset.py',
                out,
                '--img-dir',
                shapes_root / split,
                '--no-progress',
            ]
        )
    # Same images, instances (masks equal) and attributes as the source,
    # except multi-label groups known to be empty: unknown in Label Studio.
    val = json.loads((ann_dir / 'val.json').read_text())
    src = shapes['val']
    assert [i['file_name'] for i in val['images']] == [
        i['file_name'] for i in src['images']
    ]
    assert len(val['annotations']) == len(src['annotations'])
    for got, ref in zip(val['annotations'], src['annotations']):
        img = src['images'][ref['image_id'] - 1]
        ref_mask = mask_utils.decode(
            mask_utils.merge(
                mask_utils.frPyObjects(
                    ref['segmentation'], img['height'], img['width']
                )
            )
        )
        assert np.array_equal(mask_utils.decode(got['segmentation']), ref_mask)
        known = {k: v for k, v in ref['attributes'].items() if v != []}
        assert got.get('attributes', {}) == known

    opts = fast_options(shapes_root, max_iters=2, interval=2)
    for key in ('train_dataloader.dataset', 'val_dataloader.dataset'):
        split = 'train' if key.startswith('train') else 'val'
        opts.append(f'{key}.ann_file={ann_dir / split}.json')
    opts.append(f'val_evaluator.ann_file={ann_dir}/val.json')
    proc = run(
        [
            sys.executable,
            'tools/train.py',
            CPU_CONFIG,
            '--work-dir',
            tmp_path / 'work',
            '--cfg-options',
            *opts,
        ]
    )
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [2/2]' in log
    assert 'coco/segm_mAP' in log
