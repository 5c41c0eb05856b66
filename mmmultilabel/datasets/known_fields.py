"""The fields of the supported annotation forms, declared once.

For each entry of the top-level lists (``images``, ``annotations``,
``categories``), :data:`FIELDS` names every field that a supported form
(COCO instances, LVIS, Fashionpedia, PACO, the one-extra-label form and
attribute COCO) defines and, for the fields whose value alone can be
checked, how: a :class:`Check`. The validator checks the values by this
table; the unknown-field warnings name what is not in it; the data set
reads the federated image fields from it.

The reader keeps every field of a file in the canonical dict (so that
evaluators can use e.g. LVIS's federated fields), but reads only some.
A field that belongs to none of the supported forms is named in a
warning: it is kept, but nothing reads it.
"""

from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional

from mmmultilabel.utils.errors import is_number

from .completion import as_list, id_list, is_int, is_positive_int


class Check(NamedTuple):
    """How the validator checks the value of a field.

    Attributes:
        test (Callable[[Any], bool]): Whether a value is right.
        expected (str): What a right value is, for the message "expected
            <expected>, got <value>".
        required (bool): Whether a missing field is a defect.
    """

    test: Callable[[Any], bool]
    expected: str
    required: bool = False


def _non_empty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _mapping(value: Any) -> bool:
    return value is None or isinstance(value, dict)


#: The id of an image, annotation or category.
INT_ID = Check(is_int, 'an integer id', required=True)

_COCO_TOP = {'info', 'licenses', 'type', 'images', 'annotations'}
_COCO_TOP |= {'categories'}
#: Top-level keys, per form, besides the COCO ones.
_TOP = {
    'attr_coco': {'attribute_groups', 'attribute_id_map'},
    'subcat': {'subcats'},
    'fashionpedia': {'attributes'},
    # PACO (docs/PACO_DATASET.md of its repository).
    'paco': {
        'attributes',
        'attr_type_to_attr_idxs',
        'part_categories',
        'joint_obj_attribute_categories',
        'queries',
    },
    'coco': set(),
    'cvat_coco': set(),
}

#: Keys that CVAT and Datumaro write into ``annotations[].attributes`` of
#: their COCO 1.0 besides the label's attributes, and how the reader of
#: that form treats them when they are no attribute group: ``'ignore'``
#: (video bookkeeping), else the warning's reason.
CVAT_ATTRIBUTE_KEYS = {
    'occluded': (
        "is CVAT's occluded flag, no attribute group (declare a group "
        '"occluded" with values false, true to learn it)'
    ),
    'track_id': 'ignore',
    'keyframe': 'ignore',
    'rotation': "is CVAT's rotation of the shape, no attribute group",
}

#: LVIS's federated fields; PACO adds the object-attribute versions.
FEDERATED_IMAGE_FIELDS = (
    'neg_category_ids',
    'not_exhaustive_category_ids',
    'neg_category_ids_attrs',
    'not_exhaustive_category_ids_attrs',
)
_FEDERATED = Check(
    lambda v: isinstance(v, list) and all(map(is_int, v)),
    'a list of integer ids (LVIS federated field)',
)


def _unchecked(*names: str) -> Dict[str, None]:
    return dict.fromkeys(names)


#: Per top-level list, field -> its :class:`Check`, or None for a field
#: that is read as it is or checked by its own code in the validator
#: (references to other entries, boxes, masks, attributes).
FIELDS: Dict[str, Dict[str, Optional[Check]]] = dict(
    images={
        # COCO
        'id': INT_ID,
        'file_name': Check(
            _non_empty_str,
            'a non-empty path relative to the image directory',
            required=True,
        ),
        'height': Check(is_positive_int, 'a positive integer', True),
        'width': Check(is_positive_int, 'a positive integer', True),
        **_unchecked('license', 'coco_url', 'flickr_url', 'date_captured'),
        # Fashionpedia
        **_unchecked('time_captured', 'original_url', 'isstatic', 'kaggle_id'),
        # LVIS, PACO
        **dict.fromkeys(FEDERATED_IMAGE_FIELDS, _FEDERATED),
    },
    annotations={
        # COCO (``ignore`` is read by mmdet's CocoDataset)
        'id': INT_ID,
        **_unchecked('image_id', 'category_id', 'segmentation', 'bbox'),
        'area': Check(
            lambda v: is_number(v) and v > 0,
            'a positive number (the mask area in pixels)',
            required=True,
        ),
        'iscrowd': Check(lambda v: v in (0, 1), '0 or 1'),
        'ignore': None,
        # attribute COCO (the validator checks each value by its group)
        'attributes': Check(_mapping, 'a mapping {group: value}'),
        'partial_attributes': Check(
            _mapping, 'a mapping {group: [values present]}'
        ),
        # foreign forms
        **_unchecked('subcat_id', 'attribute_ids'),
        # PACO (``unknown_<type>`` flags are checked by the PACO reader)
        **_unchecked('dom_color_ids', 'obj_ann_id', 'instance_id'),
        'blur_level': None,
    },
    categories={
        # COCO
        'id': INT_ID,
        'name': Check(_non_empty_str, 'a non-empty name', required=True),
        'supercategory': None,
        # LVIS / PACO
        **_unchecked('synset', 'synonyms', 'def', 'frequency'),
        **_unchecked('image_count', 'instance_count'),
        # Fashionpedia
        **_unchecked('level', 'taxonomy_id'),
    },
)


def _unknown_keys(
    entries: Any, known: Mapping, skip_prefix: str = ''
) -> Dict[str, List[Any]]:
    """``{field: [ids of the entries that have it]}`` of unknown fields."""
    found: Dict[str, List[Any]] = {}
    for entry in as_list(entries):
        if not isinstance(entry, dict):
            continue
        for key in entry:
            if key in known or (skip_prefix and key.startswith(skip_prefix)):
                continue
            found.setdefault(key, []).append(entry.get('id'))
    return found


def unknown_field_warnings(data: Mapping, fmt: str) -> List[str]:
    """One warning per field that no supported form defines.

    Args:
        data (Mapping): Parsed annotation file.
        fmt (str): Its form, as :func:`.formats.detect_format` names it.

    Returns:
        list[str]: Messages naming the field, where it is and on how many
        entries (with their first ids).
    """
    warnings = []
    top = sorted(set(data) - _COCO_TOP - _TOP.get(fmt, set()))
    for key in top:
        warnings.append(
            f'top level: field "{key}": not a field of the {fmt} form; '
            'kept but not read'
        )
    for level, known in FIELDS.items():
        prefix = 'unknown_' if fmt == 'paco' and level == 'annotations' else ''
        for key, ids in _unknown_keys(data.get(level), known, prefix).items():
            warnings.append(
                f'top level: field "{level}[].{key}": unknown field on '
                f'{len(ids)} {level} entr{"y" if len(ids) == 1 else "ies"} '
                f'(ids {id_list(ids)}); kept but not read'
            )
    return warnings
