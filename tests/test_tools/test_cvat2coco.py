"""A CVAT project export -> cvat2coco.py -> validator -> train -> test."""

import json
import sys
import zipfile
from xml.etree import ElementTree

import pycocotools.mask as mask_utils
from tools_utils import CPU_CONFIG, fast_options, run

from mmmultilabel.datasets.cvat import write_cvat_xml

TOOL = 'tools/dataset_converters/cvat2coco.py'
CLASSES = ['circle', 'square', 'triangle']


def _records(shapes_root, subset):
    """The shapes annotations as inferencer records (the writer's input)."""
    coco = json.loads((shapes_root / f'annotations/{subset}.json').read_text())
    groups = coco['attribute_groups']
    cats = {c['id']: c['name'] for c in coco['categories']}
    records = []
    for img in coco['images']:
        h, w = img['height'], img['width']
        instances = []
        for ann in coco['annotations']:
            if ann['image_id'] != img['id']:
                continue
            seg = ann['segmentation']
            rle = (
                mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
                if isinstance(seg, list)
                else dict(seg, counts=seg['counts'].encode())
            )
            attrs = {
                g: dict(value=v, score=1.0)
                for g, v in ann.get('attributes', {}).items()
            }
            instances.append(
                dict(
                    category=cats[ann['category_id']],
                    mask=dict(size=[h, w], counts=rle['counts'].decode()),
                    attributes=attrs,
                )
            )
        records.append(
            dict(
                image=img['file_name'], height=h, width=w, instances=instances
            )
        )
    return records, groups


def _project_zip(shapes_root, tmp_path):
    """A project export with subsets train and val, as CVAT zips it."""
    root = None
    with zipfile.ZipFile(tmp_path / 'project.zip', 'w') as zf:
        for subset in ('train', 'val'):
            records, groups = _records(shapes_root, subset)
            xml = tmp_path / f'{subset}.xml'
            write_cvat_xml(records, str(xml), CLASSES, groups)
            task = ElementTree.parse(xml).getroot()
            images = task.findall('image')
            if root is None:  # <meta><task> -> <meta><project>
                root = task
                root.find('meta/task').tag = 'project'
                for img in images:
                    root.remove(img)
            for img in images:
                name = img.get('name')  # the names of a project are unique
                img.set('name', f'{subset}_{name}')
                img.set('subset', subset)
                root.append(img)
                zf.write(
                    shapes_root / subset / name,
                    f'images/{subset}/{subset}_{name}',
                )
        zf.writestr('annotations.xml', ElementTree.tostring(root))
    return tmp_path / 'project.zip'


def test_cvat_project_to_an_evaluated_model(shapes_root, tmp_path):
    src = _project_zip(shapes_root, tmp_path)
    out = tmp_path / 'data'
    args = [sys.executable, TOOL, src, out, '--checkbox-group', 'pattern']
    proc = run([*args, '--no-progress'])
    assert 'wrote' in proc.stdout and 'extracted 12 image(s)' in proc.stdout
    assert "group \"pattern\": ['striped', 'dotted', 'outlined']" in (
        proc.stdout
    )
    # nothing is overwritten without --force
    again = run([*args, '--no-progress'], check=False)
    assert again.returncode == 1 and '--force' in again.stderr
    for subset in ('train', 'val'):
        run(
            [
                sys.executable,
                'tools/misc/validate_dataset.py',
                out / f'{subset}.json',
                '--img-dir',
                out / 'images',
                '--no-progress',
            ]
        )
    data = json.loads((out / 'val.json').read_text())
    assert data['images'][0]['file_name'].startswith('val/')

    opts = fast_options(out, max_iters=2, interval=2)
    opts = [o for o in opts if 'evaluator' not in o] + [
        f'val_evaluator.ann_file={out}/val.json',
        f'test_evaluator.ann_file={out}/val.json',
        'train_dataloader.dataset.ann_file=train.json',
        'val_dataloader.dataset.ann_file=val.json',
        'test_dataloader.dataset.ann_file=val.json',
        'train_dataloader.dataset.data_prefix.img=images/',
        'val_dataloader.dataset.data_prefix.img=images/',
        'test_dataloader.dataset.data_prefix.img=images/',
    ]
    work = tmp_path / 'work'
    run(
        [
            sys.executable,
            'tools/train.py',
            CPU_CONFIG,
            '--work-dir',
            work,
            '--cfg-options',
            *opts,
        ]
    )
    metrics = tmp_path / 'metrics.json'
    run(
        [
            sys.executable,
            'tools/test.py',
            CPU_CONFIG,
            work / 'iter_2.pth',
            '--work-dir',
            work,
            '--metrics-out',
            metrics,
            '--cfg-options',
            *opts,
        ]
    )
    assert 'coco/segm_mAP' in json.loads(metrics.read_text())


def test_cvat2coco_help_and_bad_source(tmp_path):
    assert 'CVAT' in run([sys.executable, TOOL, '--help']).stdout
    bad = tmp_path / 'a.xml'
    bad.write_text('<annotations><meta>')
    proc = run([sys.executable, TOOL, bad, tmp_path / 'o.json'], check=False)
    assert proc.returncode == 1 and 'invalid XML' in proc.stderr
    assert 'Traceback' not in proc.stderr
