"""Fields of the supported annotation forms, to name the unknown ones.

The reader keeps every field of a file in the canonical dict (so that
evaluators can use e.g. LVIS's federated fields), but reads only some.
A field that belongs to none of the supported forms (COCO instances, LVIS,
Fashionpedia, PACO, the one-extra-label form and attribute COCO) is named
in a warning: it is kept, but nothing reads it.
"""

from typing import Any, Dict, List, Mapping

from .completion import id_list

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
}

#: LVIS's federated fields; PACO adds the object-attribute versions.
FEDERATED_IMAGE_FIELDS = (
    'neg_category_ids',
    'not_exhaustive_category_ids',
    'neg_category_ids_attrs',
    'not_exhaustive_category_ids_attrs',
)

IMAGE_FIELDS = {
    # COCO
    'id',
    'file_name',
    'height',
    'width',
    'license',
    'coco_url',
    'flickr_url',
    'date_captured',
    # Fashionpedia
    'time_captured',
    'original_url',
    'isstatic',
    'kaggle_id',
    *FEDERATED_IMAGE_FIELDS,
}

ANNOTATION_FIELDS = {
    # COCO (``ignore`` is read by mmdet's CocoDataset)
    'id',
    'image_id',
    'category_id',
    'segmentation',
    'area',
    'bbox',
    'iscrowd',
    'ignore',
    # attribute COCO
    'attributes',
    'partial_attributes',
    # foreign forms
    'subcat_id',
    'attribute_ids',
    # PACO (``unknown_<type>`` flags are checked by the PACO reader)
    'dom_color_ids',
    'obj_ann_id',
    'instance_id',
    'blur_level',
}

CATEGORY_FIELDS = {
    'id',
    'name',
    'supercategory',
    # LVIS / PACO
    'synset',
    'synonyms',
    'def',
    'frequency',
    'image_count',
    'instance_count',
    # Fashionpedia
    'level',
    'taxonomy_id',
}


def _unknown_keys(
    entries: Any, known: set, skip_prefix: str = ''
) -> Dict[str, List[Any]]:
    """``{field: [ids of the entries that have it]}`` of unknown fields."""
    found: Dict[str, List[Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
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
    levels = (
        ('images', IMAGE_FIELDS, ''),
        (
            'annotations',
            ANNOTATION_FIELDS,
            'unknown_' if fmt == 'paco' else '',
        ),
        ('categories', CATEGORY_FIELDS, ''),
    )
    for level, known, prefix in levels:
        for key, ids in _unknown_keys(data.get(level), known, prefix).items():
            warnings.append(
                f'top level: field "{level}[].{key}": unknown field on '
                f'{len(ids)} {level} entr{"y" if len(ids) == 1 else "ies"} '
                f'(ids {id_list(ids)}); kept but not read'
            )
    return warnings
