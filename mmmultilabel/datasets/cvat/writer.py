"""Write predictions as CVAT for images 1.1 task annotations.

The records are those of the inferencer (``AttrInferencer.pred2dict``):
``{"image", "height", "width", "instances": [{"category", "score",
"mask": COCO RLE, "attributes": {group: {"value", "score"}}}]}``. The file
is uploaded to a CVAT task that holds the same images (Actions -> Upload
annotations, format "CVAT 1.1") for review.

``<meta>`` declares one label per class and, per label, the attributes of
the groups that apply to it (``categories`` of a group, or every label):

* a single-label group is a ``select`` whose ``<values>`` are
  ``__undefined__`` (CVAT's "not set", written for an unknown prediction)
  then the group's values;
* a multi-label group is one ``checkbox`` per value, named by the value
  (read back with ``checkboxes='group'`` and ``checkbox_group`` = the
  group's name); a label takes at most one multi-label group. An unknown
  prediction writes no checkbox.

Each instance is a ``<mask>`` (CVAT's RLE of its box, :mod:`.mask_rle`) or
``<polygon>`` shapes (``shapes='polygon'``: the outer contours of the mask,
several sharing a ``group_id``), with ``source="auto"`` and ``z_order`` 0.
"""

import os
import os.path as osp
from typing import Dict, List, Sequence
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, SubElement

import cv2
import numpy as np
import pycocotools.mask as mask_utils

from .labels import UNDEFINED, CvatError
from .mask_rle import encode_mask

#: Shape types the writer can write.
WRITE_SHAPES = ('mask', 'polygon')


def _label_attributes(groups: Sequence[dict], label: str) -> List[tuple]:
    """``(name, input_type, values, group)`` of the attributes of a label."""
    out, multi = [], []
    for g in groups:
        cats = g.get('categories')
        if cats is not None and label not in cats:
            continue
        if g.get('multi_label'):
            multi.append(g['name'])
            out += [(v, 'checkbox', ('false',), g) for v in g['values']]
        else:
            values = (UNDEFINED,) + tuple(g['values'])
            out.append((g['name'], 'select', values, g))
    if len(multi) > 1:
        raise CvatError(
            f'label "{label}" has several multi-label groups {multi}; CVAT '
            'writes each as checkboxes of the label, so only one can be '
            'read back'
        )
    names = [a[0] for a in out]
    if len(set(names)) != len(names):
        raise CvatError(
            f'label "{label}": attribute names {names} repeat (a value of '
            'a multi-label group equals a group name); rename one'
        )
    return out


def _meta(root: Element, name: str, classes: Sequence[str], groups, size: int):
    task = SubElement(SubElement(root, 'meta'), 'task')
    SubElement(task, 'name').text = name
    SubElement(task, 'size').text = str(size)
    SubElement(task, 'mode').text = 'annotation'
    labels = SubElement(task, 'labels')
    for cls in classes:
        label = SubElement(labels, 'label')
        SubElement(label, 'name').text = cls
        attrs = SubElement(label, 'attributes')
        for attr_name, kind, values, _ in _label_attributes(groups, cls):
            attr = SubElement(attrs, 'attribute')
            SubElement(attr, 'name').text = attr_name
            SubElement(attr, 'mutable').text = 'False'
            SubElement(attr, 'input_type').text = kind
            SubElement(attr, 'default_value').text = values[0]
            SubElement(attr, 'values').text = '\n'.join(values)


def _add_attributes(shape: Element, attributes: dict, spec) -> None:
    for attr_name, kind, _, group in spec:
        pred = (attributes or {}).get(group['name']) or {}
        value = pred.get('value')
        if kind == 'select':
            text = UNDEFINED if value is None else str(value)
        elif value is None:
            continue  # unknown: no checkbox
        else:
            text = 'true' if attr_name in value else 'false'
        SubElement(shape, 'attribute', name=attr_name).text = text


def _polygons(mask: np.ndarray) -> List[str]:
    """``x1,y1;x2,y2;...`` of the outer contours with 3 points or more."""
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    return [
        ';'.join(f'{x:.2f},{y:.2f}' for x, y in c.reshape(-1, 2))
        for c in contours
        if len(c) >= 3
    ]


def write_cvat_xml(
    records: Sequence[dict],
    path: str,
    classes: Sequence[str],
    attribute_groups: Sequence[dict],
    shapes: str = 'mask',
) -> Dict[str, int]:
    """Write inferencer records as a CVAT for images 1.1 XML file.

    Args:
        records (Sequence[dict]): One inferencer record per image.
        path (str): Output ``.xml`` file.
        classes (Sequence[str]): Class names (the labels).
        attribute_groups (Sequence[dict]): The model's groups (optional
            ``categories`` each).
        shapes (str): ``mask`` or ``polygon``. Defaults to ``mask``.

    Returns:
        dict: ``images``, ``instances`` and ``shapes`` written.

    Raises:
        CvatError: for a record without an image name, or groups CVAT
            cannot hold.
    """
    if shapes not in WRITE_SHAPES:
        raise CvatError(f'shapes must be one of {WRITE_SHAPES}, not {shapes}')
    specs = {c: _label_attributes(attribute_groups, c) for c in classes}
    root = Element('annotations')
    SubElement(root, 'version').text = '1.1'
    _meta(root, 'predictions', classes, attribute_groups, len(records))
    counts = dict(images=0, instances=0, shapes=0)
    for i, record in enumerate(records):
        name = record.get('image')
        if not name:
            raise CvatError(
                f'record {i} has no image name (an array input); CVAT '
                'names the images of a task: infer from the image files'
            )
        image = SubElement(
            root,
            'image',
            id=str(i),
            name=osp.basename(name),
            width=str(record['width']),
            height=str(record['height']),
        )
        counts['images'] += 1
        for group_id, inst in enumerate(record['instances'], start=1):
            if inst.get('mask') is None:
                continue
            mask = mask_utils.decode(
                dict(inst['mask'], counts=inst['mask']['counts'].encode())
            ).astype(bool)
            if not mask.any():
                continue
            label = inst['category']
            common = dict(label=label, source='auto', occluded='0')
            if shapes == 'mask':
                rle, (left, top, w, h) = encode_mask(mask)
                elements = [
                    SubElement(
                        image,
                        'mask',
                        common,
                        rle=', '.join(map(str, rle)),
                        left=str(left),
                        top=str(top),
                        width=str(w),
                        height=str(h),
                        z_order='0',
                    )
                ]
            else:
                polys = _polygons(mask)
                extra = {'group_id': str(group_id)} if len(polys) > 1 else {}
                elements = [
                    SubElement(
                        image,
                        'polygon',
                        common,
                        points=p,
                        z_order='0',
                        **extra,
                    )  # fmt: skip
                    for p in polys
                ]
            for el in elements:
                _add_attributes(el, inst.get('attributes'), specs[label])
            counts['instances'] += bool(elements)
            counts['shapes'] += len(elements)
    ElementTree.indent(root)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    ElementTree.ElementTree(root).write(
        path, encoding='utf-8', xml_declaration=True
    )
    return counts
