"""Each annotation defect gets its message and exit code, all at once."""

import copy
import importlib.util
import json
import os.path as osp

import pytest
from attr_data_utils import REPO, run_tool

from mmmultilabel.datasets import validate_attr_coco

TOOL = 'tools/misc/validate_dataset.py'


def load_tool():
    """The validator script as a module, to call its ``main`` in-process."""
    spec = importlib.util.spec_from_file_location(
        'validate_dataset', osp.join(REPO, TOOL)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALIDATE = load_tool()


def clean():
    """A small clean attribute COCO dict: two 40x30 images."""
    return dict(
        images=[
            dict(id=1, file_name='a.png', height=30, width=40),
            dict(id=2, file_name='b.png', height=30, width=40),
        ],
        categories=[dict(id=1, name='car'), dict(id=2, name='bus')],
        attribute_groups=[
            dict(name='color', values=['red', 'green', 'blue']),
            dict(
                name='pattern', values=['striped', 'dotted'], multi_label=True
            ),
        ],
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=1,
                bbox=[2, 2, 10, 8],
                area=80,
                iscrowd=0,
                segmentation=[[2, 2, 12, 2, 12, 10, 2, 10]],
                attributes=dict(color='red', pattern=['dotted']),
            ),
            dict(
                id=2,
                image_id=1,
                category_id=1,
                bbox=[20, 5, 10, 10],
                area=100,
                iscrowd=0,
                segmentation=[[20, 5, 30, 5, 30, 15, 20, 15]],
                attributes=dict(color=2),
            ),
        ],
    )


def ann(data, i=0):
    return data['annotations'][i]


# (edit of the clean dict, the one expected defect message)
DEFECTS = {
    'unknown category id': (
        lambda d: ann(d).update(category_id=9),
        'annotation id=1 (image id=1): field "category_id": unknown '
        'category id 9; declared ids: [1, 2]',
    ),
    'undeclared attribute group': (
        lambda d: ann(d)['attributes'].update(shape='round'),
        'annotation id=1 (image id=1): field "attributes.shape": undeclared '
        "attribute group \"shape\"; declared groups: ['color', 'pattern']",
    ),
    'undeclared value': (
        lambda d: ann(d)['attributes'].update(color='purple'),
        'annotation id=1 (image id=1): field "attributes.color": group '
        '"color": undeclared value \'purple\'',
    ),
    'index out of range': (
        lambda d: ann(d, 1)['attributes'].update(color=3),
        'annotation id=2 (image id=1): field "attributes.color": group '
        '"color": index 3 is out of range 0..2',
    ),
    'multi-label index out of range': (
        lambda d: ann(d)['attributes'].update(pattern=[0, 2]),
        'annotation id=1 (image id=1): field "attributes.pattern": group '
        '"pattern": index 2 is out of range 0..1',
    ),
    'list for a single-label group': (
        lambda d: ann(d)['attributes'].update(color=['red', 'blue']),
        'annotation id=1 (image id=1): field "attributes.color": group '
        '"color" is single-label but got a list',
    ),
    'undeclared group declaration': (
        lambda d: d['attribute_groups'][1].update(values=[]),
        'top level: field "attribute_groups[1].values": group "pattern" '
        'needs a non-empty list of value names',
    ),
    'duplicate image id': (
        lambda d: d['images'][1].update(id=1),
        'image id=1: field "id": duplicate id: 2 images use it',
    ),
    'duplicate annotation id': (
        lambda d: ann(d, 1).update(id=1),
        'annotation id=1: field "id": duplicate id: 2 annotations use it',
    ),
    'duplicate category id': (
        lambda d: d['categories'][1].update(id=1),
        'category id=1: field "id": duplicate id: 2 categories use it',
    ),
    'annotation of a missing image': (
        lambda d: ann(d).update(image_id=42),
        'annotation id=1 (image id=42): field "image_id": image id 42 is '
        'not in "images"',
    ),
    'degenerate polygon': (
        lambda d: ann(d).update(segmentation=[[2, 2, 12, 2]]),
        'annotation id=1 (image id=1): field "segmentation[0]": degenerate '
        'polygon with 4 numbers',
    ),
    'zero-area polygon': (
        lambda d: ann(d).update(segmentation=[[2, 2, 4, 4, 8, 8]]),
        'annotation id=1 (image id=1): field "segmentation[0]": degenerate '
        'polygon of zero area',
    ),
    'degenerate bbox': (
        lambda d: ann(d).update(bbox=[2, 2, 0, 8]),
        'annotation id=1 (image id=1): field "bbox": degenerate box '
        '[2, 2, 0, 8]: width and height must be > 0',
    ),
    'polygon outside the image': (
        lambda d: ann(d).update(segmentation=[[2, 2, 60, 2, 12, 10]]),
        'annotation id=1 (image id=1): field "segmentation[0]": mask '
        'outside the image: point (60, 2) lies outside the 40x30',
    ),
    'RLE of another size': (
        lambda d: ann(d).update(segmentation=dict(size=[60, 40], counts='')),
        'annotation id=1 (image id=1): field "segmentation.size": mask '
        'outside the image: RLE size [60, 40] differs from the image size '
        '[30, 40]',
    ),
    'uncompressed RLE that does not fill its size': (
        lambda d: ann(d).update(
            segmentation=dict(size=[30, 40], counts=[100, 20, 1000])
        ),
        'annotation id=1 (image id=1): field "segmentation.counts": the run '
        'lengths add up to 1120 pixels, not 30x40 = 1200 (height x width)',
    ),
    'uncompressed RLE with a negative run': (
        lambda d: ann(d).update(
            segmentation=dict(size=[30, 40], counts=[1300, -100])
        ),
        'annotation id=1 (image id=1): field "segmentation.counts": the run '
        'lengths of an uncompressed RLE must be integers >= 0',
    ),
    'value of a group for a category it does not apply to': (
        lambda d: (
            d['attribute_groups'][0].update(categories=['car']),
            ann(d).update(category_id=2),
        ),
        'annotation id=1 (image id=1): field "attributes.color": group '
        '"color" does not apply to category "bus" (it applies to '
        '[\'car\']); remove the value or add "bus" to the "categories" '
        'of the group',
    ),
    'group applies to an undeclared category': (
        lambda d: d['attribute_groups'][0].update(categories=['car', 'van']),
        'top level: field "attribute_groups[0].categories": group "color" '
        'applies to [\'van\'], which are not in "categories"',
    ),
    'missing area': (
        lambda d: ann(d).pop('area'),
        'annotation id=1 (image id=1): field "area": missing',
    ),
}


@pytest.mark.parametrize('name', list(DEFECTS))
def test_each_defect_has_its_message_and_exit_code(name, tmp_path, capsys):
    edit, message = DEFECTS[name]
    data = clean()
    edit(data)
    defects = validate_attr_coco(data)
    assert len(defects) == 1 and defects[0].startswith(message), defects

    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    assert VALIDATE.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert f'{path}: {message}' in out
    assert out.rstrip().endswith(f'{path}: 1 defect(s)')


def test_missing_image_file_needs_img_dir(tmp_path, capsys):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(clean()))
    (tmp_path / 'a.png').write_bytes(b'')
    assert VALIDATE.main([str(path)]) == 0
    assert VALIDATE.main([str(path), '--img-dir', str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        'image id=2 ("b.png"): field "file_name": image file not found: '
        f'{tmp_path / "b.png"}'
    ) in out


def test_cli_lists_all_defects_with_count(tmp_path):
    data = clean()
    for name in ('unknown category id', 'undeclared value', 'degenerate bbox'):
        DEFECTS[name][0](data)
    ann(data, 1).update(image_id=42)
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    proc = run_tool(TOOL, path)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stdout + proc.stderr
    for name in ('unknown category id', 'undeclared value', 'degenerate bbox'):
        assert DEFECTS[name][1] in proc.stdout
    assert 'field "image_id": image id 42 is not in "images"' in proc.stdout
    assert proc.stdout.rstrip().endswith(f'{path}: 4 defect(s)')


def test_cli_clean_file_exits_zero(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(clean()))
    proc = run_tool(TOOL, path)
    assert proc.returncode == 0, proc.stdout
    assert 'OK (attr_coco form, 2 images, 2 annotations' in proc.stdout


def test_cli_syntax_error_is_file_line_column(tmp_path):
    path = tmp_path / 'ann.json'
    text = json.dumps(clean(), indent=1).splitlines()
    # Drop the comma after the "images" list.
    idx = next(i for i, line in enumerate(text) if line == ' ],')
    text[idx] = ' ]'
    path.write_text('\n'.join(text))
    proc = run_tool(TOOL, path)
    assert proc.returncode == 1
    assert proc.stdout.startswith(
        f"{path}:{idx + 2}:2: invalid JSON: Expecting ',' delimiter"
    ), proc.stdout
    assert 'Traceback' not in proc.stdout + proc.stderr


MALFORMED = [
    [],
    {},
    {'images': {}, 'annotations': 'x', 'categories': None},
    {'images': [1, None], 'annotations': [[], 'a'], 'categories': [3]},
    {
        'images': [{'id': [1], 'height': 'x'}],
        'categories': [{'id': {}, 'name': 4}],
        'attribute_groups': 'color',
        'annotations': [
            {
                'id': 1,
                'image_id': [1],
                'category_id': {},
                'bbox': 'x',
                'segmentation': 5,
                'area': 'big',
                'attributes': ['red'],
            }
        ],
    },
    {
        'images': [],
        'categories': [],
        'attribute_groups': [{'name': 'c', 'values': [1, 1]}, 'x'],
        'annotations': [
            {'segmentation': [['a']], 'attributes': {'c': {'x': 1}}},
            {'segmentation': {'counts': 3}, 'bbox': [1, 2, 3]},
        ],
    },
    {
        'images': [{'id': [1], 'file_name': 'a', 'height': 5, 'width': 5}],
        'categories': [],
        'annotations': [
            {'image_id': [1], 'segmentation': [[0, 0, 4, 0, 4, 4]]},
            {'image_id': {}, 'segmentation': {'size': [5, 5], 'counts': 'x'}},
        ],
    },
    {
        'images': [],
        'categories': [],
        'annotations': [{'attribute_ids': 4}],
        'attributes': [{'id': []}, 5],
    },
    {
        'images': [],
        'categories': [],
        'annotations': [{'attribute_ids': [[]]}],
        'attributes': [],
        'attr_type_to_attr_idxs': {'c': 5, 'd': [[1]]},
    },
    {
        'images': [],
        'categories': [],
        'annotations': [{'subcat_id': []}],
        'subcats': [{'id': None}, 'x'],
    },
    {
        'images': [{'id': 1, 'file_name': 'a', 'height': 5, 'width': 5}],
        'categories': [{'id': 1, 'name': 'a'}],
        'attribute_groups': [],
        'attribute_id_map': [{'id': 1, 'group': [1], 'value': 'x'}],
        'annotations': [
            {
                'id': 1,
                'image_id': 1,
                'category_id': 1,
                'area': 4,
                'segmentation': [[[1, 2], [3]], [1, 2, 'x', [1]]],
            }
        ],
    },
]


def test_foreign_form_with_broken_structure():
    data = clean()
    del data['attribute_groups']
    data.update(annotations='x', attributes=[], images=None)
    defects = validate_attr_coco(data)
    assert 'top level: field "images": expected a list (got NoneType)' in (
        defects
    )
    assert 'top level: field "annotations": expected a list (got str)' in (
        defects
    )


@pytest.mark.parametrize('data', MALFORMED)
def test_malformed_data_is_reported_never_raised(data, tmp_path, capsys):
    defects = validate_attr_coco(copy.deepcopy(data))
    assert defects and all(isinstance(d, str) for d in defects)
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    assert VALIDATE.main([str(path)]) == 1
    assert f'{len(defects)} defect(s)' in capsys.readouterr().out
