"""CVAT exports (a project zip, a task .xml, a COCO 1.0 .json) ->
cvat2coco.py -> validator -> train -> test."""

import json
import shutil
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


def _task_xml(shapes_root, tmp_path):
    """The val split as a task export, extracted: annotations.xml beside
    images/."""
    records, groups = _records(shapes_root, 'val')
    task = tmp_path / 'task'
    write_cvat_xml(records, str(task / 'annotations.xml'), CLASSES, groups)
    shutil.copytree(shapes_root / 'val', task / 'images')
    return task / 'annotations.xml'


def _coco_1_0(shapes_root, tmp_path):
    """The train split as CVAT's COCO 1.0 export writes it: an
    ``attributes`` dict per annotation with CVAT's ``occluded`` flag; the
    multi-label group is left out (CVAT's COCO has checkboxes only)."""
    coco = json.loads((shapes_root / 'annotations/train.json').read_text())
    del coco['attribute_groups']
    for ann in coco['annotations']:
        attrs = ann.pop('attributes', {})
        ann['attributes'] = dict(
            occluded=False, color=attrs['color'], size=attrs['size']
        )
    path = tmp_path / 'instances_default.json'
    path.write_text(json.dumps(coco))
    return path


def test_cvat_task_xml_and_coco_to_an_evaluated_model(shapes_root, tmp_path):
    """Both converted and validated; train on the COCO 1.0 file read
    directly with the config's groups, validate and test on the task."""
    out = tmp_path / 'ann'
    task_xml = _task_xml(shapes_root, tmp_path)
    coco_1_0 = _coco_1_0(shapes_root, tmp_path)
    images = dict(train=shapes_root / 'train', val=task_xml.parent / 'images')
    for split, src in (('train', coco_1_0), ('val', task_xml)):
        args = [TOOL, src, out / f'{split}.json', '--no-progress']
        proc = run([sys.executable, *args, '--checkbox-group', 'pattern'])
        assert f'wrote {out / split}.json' in proc.stdout
        run(
            [
                sys.executable,
                'tools/misc/validate_dataset.py',
                out / f'{split}.json',
                '--img-dir',
                images[split],
                '--no-progress',
            ]
        )
        if split == 'train':  # groups of the values found; occluded: none
            assert "group \"size\": ['large', 'medium', 'small']" in (
                proc.stdout
            )
            assert 'attributes.occluded' in proc.stderr
    train = json.loads((out / 'train.json').read_text())
    assert [a['attributes'] for a in train['annotations']] == [
        {k: a['attributes'][k] for k in ('color', 'size')}
        for a in json.loads(coco_1_0.read_text())['annotations']
    ]
    val = json.loads((out / 'val.json').read_text())
    ref = json.loads((shapes_root / 'annotations/val.json').read_text())
    assert [a['attributes'] for a in val['annotations']] == [
        a['attributes'] for a in ref['annotations']
    ]

    opts = [o for o in fast_options(out) if 'evaluator' not in o]
    for key in ('val', 'test'):
        opts += [
            f'{key}_dataloader.dataset.ann_file={out}/val.json',
            f'{key}_evaluator.ann_file={out}/val.json',
            f'{key}_dataloader.dataset.data_prefix.img={images["val"]}/',
        ]
    opts += [
        f'train_dataloader.dataset.ann_file={coco_1_0}',
        f'train_dataloader.dataset.data_prefix.img={images["train"]}/',
    ]
    work = tmp_path / 'work'
    train = [sys.executable, 'tools/train.py', CPU_CONFIG, '--work-dir', work]
    log = run([*train, '--cfg-options', *opts])
    assert 'Iter(train) [2/2]' in log.stdout + log.stderr
    metrics = tmp_path / 'metrics.json'
    test = [sys.executable, 'tools/test.py', CPU_CONFIG, work / 'iter_2.pth']
    test += ['--work-dir', work, '--metrics-out', metrics]
    run([*test, '--cfg-options', *opts])
    assert 'coco/segm_mAP' in json.loads(metrics.read_text())


def test_cvat2coco_help_and_bad_source(tmp_path):
    assert 'CVAT' in run([sys.executable, TOOL, '--help']).stdout
    bad = tmp_path / 'a.xml'
    bad.write_text('<annotations><meta>')
    proc = run([sys.executable, TOOL, bad, tmp_path / 'o.json'], check=False)
    assert proc.returncode == 1 and 'invalid XML' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_cvat2coco_coco_names_each_unread_key_once(tmp_path):
    src = 'tests/data/cvat/datumaro_coco.json'
    proc = run([sys.executable, TOOL, src, tmp_path / 'o.json'])
    # occluded (CVAT's flag) and weight (a number) are no groups
    assert proc.stderr.count('attributes.occluded') == 1
    assert proc.stderr.count('attributes.weight') == 1
    assert "['int']" in proc.stderr
    assert '2 warning(s)' in proc.stdout
