"""Read attribute annotations in any supported form as attribute COCO.

The canonical form (see ``docs/dataset_format.md``) is a COCO instances
dict plus a top-level ``attribute_groups`` list and, per annotation, an
``attributes`` mapping ``{group: value}``. Three other forms are converted
to it on load:

* ``subcat``: one extra label per annotation (``subcat_id``) declared by a
  top-level ``subcats`` list; it becomes one single-label group ``subcat``.
* ``fashionpedia``: ``attribute_ids`` per annotation and a top-level
  ``attributes`` list whose ``supercategory`` names the group; every group
  is multi-label.
* ``paco``: ``attribute_ids`` per annotation, a top-level ``attributes``
  list, ``attr_type_to_attr_idxs`` mapping each group to its attribute ids,
  and ``unknown_<group>`` flags per annotation; every group is multi-label.
  A value listed under a group flagged unknown is read as PACO reads it:
  present, the group's other values unknown (``partial_attributes``).
* ``cvat_coco`` (CVAT's and Datumaro's COCO 1.0): ``attributes`` per
  annotation as ``{"color": "red", "occluded": false}`` and no value list.
  The groups come from the caller (the config's ``attribute_groups``) and
  the values are matched by name (``true``/``false`` for booleans);
  :func:`cvat_coco_groups` builds groups from the values found instead.
  CVAT's own keys (``occluded``, ``track_id``, ``keyframe``, ...) are
  read as :data:`.known_fields.CVAT_ATTRIBUTE_KEYS` says.

Then the fields that published files leave out are filled as the COCO
tools read them (:mod:`.completion`): ``bbox`` from the mask, ``iscrowd``
0, annotations without a mask in a data set of masks skipped.

The conversion never raises on malformed data: it converts what it can and
reports the rest as defect strings (errors) and warning strings, so that
the validator can list everything at once.
"""

import json
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Tuple,
    Union,
)

from mmengine.fileio import get_text

from mmmultilabel.utils import AttributeSpec
from mmmultilabel.utils.errors import (
    AnnotationSyntaxError,
    AttributeSpecError,
)

from .completion import as_list, complete_annotations, id_list, is_int, is_key
from .known_fields import CVAT_ATTRIBUTE_KEYS, unknown_field_warnings

ATTR_COCO = 'attr_coco'
SUBCAT = 'subcat'
FASHIONPEDIA = 'fashionpedia'
PACO = 'paco'
CVAT_COCO = 'cvat_coco'
PLAIN_COCO = 'coco'

#: Name of the single-label group made from ``subcat_id``.
SUBCAT_GROUP = 'subcat'

#: Top-level key of the canonical dict that keeps the attribute ids of a
#: Fashionpedia or PACO file: ``[{"id", "group", "value"}, ...]``, so that
#: evaluators can read id-based fields (PACO's
#: ``joint_obj_attribute_categories``, the ``*_attrs`` federated fields).
ATTRIBUTE_ID_MAP = 'attribute_id_map'

# Keys of the foreign forms that the canonical form does not keep.
_FOREIGN_TOP_KEYS = ('subcats', 'attributes', 'attr_type_to_attr_idxs')
_FOREIGN_ANN_KEYS = ('subcat_id', 'attribute_ids')


def read_annotation_file(
    path: Union[str, Path], backend_args: Optional[dict] = None
) -> Any:
    """Read and parse one JSON annotation file.

    Args:
        path (str | Path): Local path or any URI that mmengine's file
            backends understand.
        backend_args (dict, optional): Arguments for the file backend.

    Returns:
        Any: The parsed JSON value.

    Raises:
        AnnotationSyntaxError: if the file is not valid JSON; the message
            is ``FILE:LINE:COL: message``.
    """
    return parse_annotation_text(
        get_text(str(path), backend_args=backend_args), path
    )


def parse_annotation_text(text: str, path: Union[str, Path]) -> Any:
    """Parse the JSON text of the annotation file ``path``.

    Raises:
        AnnotationSyntaxError: as :func:`read_annotation_file`.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise AnnotationSyntaxError(
            str(path), err.lineno, err.colno, f'invalid JSON: {err.msg}'
        ) from None


def detect_format(data: Mapping) -> str:
    """Name the attribute form of an annotation dict.

    Args:
        data (Mapping): Parsed annotation file.

    Returns:
        str: One of ``'attr_coco'``, ``'subcat'``, ``'fashionpedia'``,
        ``'paco'``, ``'cvat_coco'`` (``attributes`` per annotation, no
        groups declared) and ``'coco'`` (no attributes at all).
    """
    if 'attribute_groups' in data:
        return ATTR_COCO
    if 'attr_type_to_attr_idxs' in data:
        return PACO
    if 'subcats' in data:
        return SUBCAT
    if 'attributes' in data:
        return FASHIONPEDIA
    if any(
        isinstance(a, dict) and isinstance(a.get('attributes'), dict)
        for a in as_list(data.get('annotations'))
    ):
        return CVAT_COCO
    return PLAIN_COCO


def ann_where(ann: Mapping) -> str:
    """``annotation id=N (image id=M)`` for messages."""
    where = f'annotation id={ann.get("id")!r}'
    if 'image_id' in ann:
        where += f' (image id={ann.get("image_id")!r})'
    return where


def _declared_forms(data: Mapping) -> List[str]:
    forms = []
    if 'attribute_groups' in data:
        forms.append('"attribute_groups" (attribute COCO)')
    if 'subcats' in data:
        forms.append('"subcats" (one extra label)')
    if 'attr_type_to_attr_idxs' in data:
        forms.append('"attr_type_to_attr_idxs" (PACO)')
    elif 'attributes' in data:
        forms.append('"attributes" (Fashionpedia)')
    return forms


def _canonical(
    data: Mapping,
    groups: List[dict],
    table: Optional[Mapping[Any, dict]] = None,
    group_of: Optional[Mapping[Any, str]] = None,
    drop_prefix: Optional[str] = None,
) -> dict:
    """The canonical dict of a foreign form, without its foreign keys:
    ``attribute_groups``, the ``attribute_id_map`` of the source ids
    (``{"id", "group", "value"}`` in the order of the source table, ids in
    no group left out) when ``table`` is given, and shallow copies of the
    annotations (also without the keys starting with ``drop_prefix``)."""
    out = {k: v for k, v in data.items() if k not in _FOREIGN_TOP_KEYS}
    out['attribute_groups'] = groups
    if table is not None:
        out[ATTRIBUTE_ID_MAP] = [
            dict(id=attr_id, group=group_of[attr_id], value=entry['name'])
            for attr_id, entry in table.items()
            if attr_id in group_of
        ]
    out['annotations'] = [
        _without_foreign_keys(ann, drop_prefix)
        if isinstance(ann, dict)
        else ann
        for ann in as_list(data.get('annotations'))
    ]
    return out


def _without_foreign_keys(ann: dict, drop_prefix: Optional[str]) -> dict:
    """A copy of ``ann`` without the keys of :data:`_FOREIGN_ANN_KEYS` and
    those starting with ``drop_prefix`` (the others in their order)."""
    out = dict(ann)
    for key in _FOREIGN_ANN_KEYS:
        out.pop(key, None)
    if drop_prefix:
        for key in [k for k in out if k.startswith(drop_prefix)]:
            del out[key]
    return out


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def id_table(
    entries: Any,
    key: str,
    defects: List[str],
    id_test: Callable[[Any], bool] = is_key,
    name_test: Callable[[Any], bool] = _is_str,
    unique: bool = True,
) -> Dict[Any, dict]:
    """A top-level list of ``{"id", "name"}`` objects (``subcats``,
    ``categories``, the ``attributes`` of Fashionpedia/PACO) as ``{id:
    entry}``; an entry whose ``id`` fails ``id_test`` or whose ``name``
    fails ``name_test`` is a defect, and so is an id declared twice with
    ``unique`` (else the last entry wins, as LVIS' and PACO's api)."""
    table: Dict[Any, dict] = {}
    more = ', ...' if key == 'attributes' else ''
    if not isinstance(entries, list):
        defects.append(
            f'top level: field "{key}": expected a list of '
            f'{{"id", "name"{more}}} objects, got {type(entries).__name__}'
        )
        return table
    for i, entry in enumerate(entries):
        if (
            not isinstance(entry, Mapping)
            or not id_test(entry.get('id'))
            or not name_test(entry.get('name'))
        ):
            defects.append(
                f'top level: field "{key}[{i}]": expected '
                f'{{"id": int, "name": str{more}}}, got {entry!r}'
            )
        elif unique and entry['id'] in table:
            defects.append(
                f'{key[:-1]} id={entry["id"]!r}: field "id": declared '
                f'twice in the top-level "{key}"'
            )
        else:
            table[entry['id']] = entry
    return table


def paco_num_probs(data: Mapping) -> int:
    """Length of PACO's ``attribute_probs``: the largest attribute id of
    ``attributes`` and of ``joint_obj_attribute_categories`` + 1, as PACO's
    evaluator indexes it (entries that are no object and ids that are no
    int >= 0 are not counted)."""
    ids = [
        e.get(k)
        for key, k in (
            ('attributes', 'id'),
            ('joint_obj_attribute_categories', 'attr'),
        )
        for e in data.get(key) or []
        if isinstance(e, Mapping)
    ]
    return 1 + max(
        (a for a in ids if isinstance(a, int) and a >= 0), default=-1
    )


def read_paco_attributes(
    data: Mapping, defects: List[str], evaluator: bool = False
) -> Tuple[Dict[Any, dict], Dict[str, Any], Dict[Any, str]]:
    """``attributes`` and ``attr_type_to_attr_idxs`` of a PACO file as
    ``({id: entry}, {type: [ids]}, {id: its type})``; what breaks a rule of
    the reader is a defect. The type map must be an object of lists. The
    data set (default) and PACO's evaluator (``evaluator``) differ in:

    * ``attributes`` or the type map missing or empty: a defect / none;
    * an attribute's id: an int or str / an int; its name: a str / any;
    * an id declared twice in ``attributes``: a defect / the last wins;
    * a type's id not in ``attributes``: a defect / kept;
    * an id under two types: a defect, the first type kept / the last
      type wins, as PACO's evaluator.
    """
    entries = data.get('attributes')
    types = data.get('attr_type_to_attr_idxs')
    if evaluator:
        entries, types = entries or [], types or {}
    table = (
        id_table(entries, 'attributes', defects, is_int, lambda n: True, False)
        if evaluator
        else id_table(entries, 'attributes', defects)
    )
    if not isinstance(types, Mapping):
        defects.append(
            'top level: field "attr_type_to_attr_idxs": expected '
            f'{{group: [attribute ids]}}, got {type(types).__name__}'
        )
        types = {}
    type_of: Dict[Any, str] = {}
    for group, ids in types.items():
        where = f'top level: field "attr_type_to_attr_idxs.{group}"'
        if not isinstance(ids, list):
            defects.append(
                f'{where}: expected a list of attribute ids, got {ids!r}'
            )
            continue
        for attr_id in ids:
            if evaluator:
                type_of[attr_id] = group
            elif not is_key(attr_id) or attr_id not in table:
                defects.append(
                    f'{where}: attribute id {attr_id!r} is not declared in '
                    'the top-level "attributes"'
                )
            elif attr_id in type_of:
                defects.append(
                    f'{where}: attribute id {attr_id!r} is already in group '
                    f'"{type_of[attr_id]}"'
                )
            else:
                type_of[attr_id] = group
    return table, dict(types), type_of


def _from_subcat(data: Mapping, defects: List[str]) -> dict:
    names = {
        k: e['name']
        for k, e in id_table(data.get('subcats'), 'subcats', defects).items()
    }
    groups = [
        dict(name=SUBCAT_GROUP, values=list(names.values()), multi_label=False)
    ]
    out = _canonical(data, groups if names else [])
    for src, ann in zip(as_list(data.get('annotations')), out['annotations']):
        if not isinstance(src, dict) or src.get('subcat_id') is None:
            continue
        sid = src['subcat_id']
        if not is_key(sid) or sid not in names:
            defects.append(
                f'{ann_where(src)}: field "subcat_id": subcat id {sid!r} '
                'is not declared in the top-level "subcats" (declared ids: '
                f'{list(names)})'
            )
            continue
        ann['attributes'] = {SUBCAT_GROUP: names[sid]}
    return out


def _from_attribute_ids(
    data: Mapping,
    defects: List[str],
    table: Mapping[Any, dict],
    group_of: Mapping[Any, str],
    not_found: str,
    paco: bool = False,
) -> Tuple[dict, Dict[str, List[Any]]]:
    """The canonical dict of a Fashionpedia or PACO file: one multi-label
    group per value of ``group_of`` (attribute id -> group; groups and
    their values in its order) and, per annotation with a list of
    ``attribute_ids``, the names of its values (an annotation without one
    has every group unknown; a value that is not a list is a defect).

    With ``paco``, the ``unknown_<type>`` flags drop and a value listed
    under a type flagged unknown goes to ``partial_attributes``.

    Returns:
        tuple[dict, dict]: The canonical dict and, per group, the ids of
        the annotations that list values under its unknown flag.
    """
    groups: Dict[str, List[str]] = {}
    for attr_id, group in group_of.items():
        groups.setdefault(group, []).append(table[attr_id]['name'])
    out = _canonical(
        data,
        [dict(name=g, values=v, multi_label=True) for g, v in groups.items()],
        table,
        group_of,
        drop_prefix='unknown_' if paco else None,
    )
    listed_unknown: Dict[str, List[Any]] = {}
    value_of = {k: (g, table[k]['name']) for k, g in group_of.items()}
    for src, ann in zip(as_list(data.get('annotations')), out['annotations']):
        if not isinstance(src, dict) or src.get('attribute_ids') is None:
            continue
        ids = src['attribute_ids']
        if not isinstance(ids, list):
            defects.append(
                f'{ann_where(src)}: field "attribute_ids": '
                f'expected a list of attribute ids, got {ids!r}'
            )
            continue
        unknown = (
            {g for g in groups if src.get(f'unknown_{g}')} if paco else ()
        )
        attributes = {g: [] for g in groups}
        for group in unknown:
            del attributes[group]
        partial: Dict[str, List[str]] = {}
        for attr_id in ids:
            group_value = value_of.get(attr_id) if is_key(attr_id) else None
            if group_value is None:
                defects.append(
                    f'{ann_where(src)}: field "attribute_ids": attribute '
                    f'id {attr_id!r} {not_found}'
                )
                continue
            group, value = group_value
            if group in unknown:
                partial.setdefault(group, []).append(value)
            else:
                attributes[group].append(value)
        ann['attributes'] = attributes
        if partial:
            ann['partial_attributes'] = partial
            for group in partial:
                listed_unknown.setdefault(group, []).append(src.get('id'))
    return out, listed_unknown


def _from_fashionpedia(data: Mapping, defects: List[str]) -> dict:
    table = id_table(data.get('attributes'), 'attributes', defects)
    group_of: Dict[Any, str] = {}
    for attr_id, entry in table.items():
        group = entry.get('supercategory')
        if not isinstance(group, str) or not group:
            defects.append(
                f'attribute id={attr_id!r}: field "supercategory": missing; '
                'Fashionpedia-style attributes are grouped by their '
                '"supercategory"'
            )
            continue
        group_of[attr_id] = group
    return _from_attribute_ids(
        data,
        defects,
        table,
        group_of,
        'is not declared in the top-level "attributes"',
    )[0]


def _from_paco(data: Mapping, defects: List[str], warnings: List[str]) -> dict:
    table, type_map, group_of = read_paco_attributes(data, defects)
    for group, ids in type_map.items():
        if ids == []:
            warnings.append(
                f'top level: field "attr_type_to_attr_idxs.{group}": lists '
                'no attribute; the type is left out'
            )
    groups = list(dict.fromkeys(group_of.values()))  # those with values
    _paco_flag_warnings(data, groups, list(type_map), warnings)
    out, listed_unknown = _from_attribute_ids(
        data,
        defects,
        table,
        group_of,
        'is in no group of "attr_type_to_attr_idxs"',
        paco=True,
    )
    for group, ann_ids in listed_unknown.items():
        warnings.append(
            f'top level: field "attribute_ids": {len(ann_ids)} '
            f'annotation(s) (ids {id_list(ann_ids)}) list values of type '
            f'"{group}" while flagged "unknown_{group}": 1; read as PACO '
            'reads them: the listed values present, the other values of '
            f'"{group}" unknown (kept in "partial_attributes")'
        )
    return out


def _paco_flag_warnings(
    data: Mapping,
    groups: List[str],
    types: List[str],
    warnings: List[str],
) -> None:
    """Warn about ``unknown_<type>`` flags that are missing or name no
    type (PACO's evaluation reads the flag of every type)."""
    missing: Dict[str, List[Any]] = {}
    stray: Dict[str, List[Any]] = {}
    for src in as_list(data.get('annotations')):
        if not isinstance(src, dict) or src.get('attribute_ids') is None:
            continue
        for group in groups:
            if f'unknown_{group}' not in src:
                missing.setdefault(group, []).append(src.get('id'))
        for key in src:
            if key.startswith('unknown_') and key[8:] not in types:
                stray.setdefault(key, []).append(src.get('id'))
    for group, ids in missing.items():
        warnings.append(
            f'top level: field "unknown_{group}": missing on {len(ids)} '
            f'annotation(s) (ids {id_list(ids)}); read as 0 (type '
            f'"{group}" known)'
        )
    for key, ids in stray.items():
        warnings.append(
            f'top level: field "{key}": on {len(ids)} annotation(s) (ids '
            f'{id_list(ids)}) but "{key[8:]}" is no attribute type of '
            f'"attr_type_to_attr_idxs" (types: {types}); the flag '
            'is not read'
        )


def cvat_value_name(value: Any) -> Any:
    """The value name of a CVAT COCO attribute value: ``true``/``false``
    for a boolean, the digits of an integral number (``3`` for 3.0), the
    text of any other number; a string as it is; None (unknown) as None;
    anything else (a list, a dict) unchanged, for the caller to report."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return value


def _cvat_keys(data: Mapping) -> Dict[str, Dict[str, list]]:
    """``{key: {"ids": [...], "values": [...], "categories": [...]}}`` of
    the ``attributes`` of a CVAT COCO file, in order of appearance."""
    keys: Dict[str, Dict[str, list]] = {}
    for ann in as_list(data.get('annotations')):
        attrs = ann.get('attributes') if isinstance(ann, dict) else None
        if not isinstance(attrs, dict):
            continue
        for key, value in attrs.items():
            entry = keys.setdefault(
                key, dict(ids=[], values=[], categories=[])
            )
            entry['ids'].append(ann.get('id'))
            entry['values'].append(value)
            if ann.get('category_id') not in entry['categories']:
                entry['categories'].append(ann.get('category_id'))
    return keys


def _unread_key_warning(key: str, ids: List[Any], why: str) -> str:
    return (
        f'top level: field "annotations[].attributes.{key}": on '
        f'{len(ids)} annotation(s) (ids {id_list(ids)}) {why}; not read'
    )


def _no_choice(values: List[Any]) -> Optional[str]:
    """Why a CVAT COCO key of these values is no group of choices, or
    None for booleans or strings."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present) or all(
        isinstance(v, str) for v in present
    ):
        return None
    kinds = sorted({type(v).__name__ for v in present})
    return (
        f'has values of type {kinds} (a number or text input in CVAT): no '
        'group of choices'
    )


def _from_cvat_coco(
    data: Mapping,
    defects: List[str],
    warnings: List[str],
    groups: Optional[List[dict]],
) -> dict:
    out = _canonical(data, [] if groups is None else list(groups))
    if groups is None:
        defects.append(
            'top level: annotations carry "attributes" but the file '
            'declares no "attribute_groups" (the COCO 1.0 of CVAT or '
            'Datumaro): give attribute_groups in the config (metainfo), or '
            'convert the file with tools/dataset_converters/cvat2coco.py, '
            'which builds them from the values found'
        )
        return out
    try:
        spec = {g.name: g for g in AttributeSpec(groups)}
    except AttributeSpecError as err:
        defects.append(f'attribute_groups: {err}')
        return out
    unread: Dict[str, Tuple[list, list]] = {}  # key -> (ids, values)
    for ann in out['annotations']:
        attrs = ann.get('attributes') if isinstance(ann, dict) else None
        if not isinstance(attrs, dict):
            continue
        read = {}
        for key, value in attrs.items():
            group = spec.get(key)
            if group is None:
                ids, found = unread.setdefault(key, ([], []))
                ids.append(ann.get('id'))
                found.append(value)
                continue
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            names = [cvat_value_name(v) for v in values]
            wrong = [v for v, n in zip(values, names) if n not in group.values]
            if wrong or (isinstance(value, list) != group.multi_label):
                defects.append(
                    f'{ann_where(ann)}: field "attributes.{key}": value '
                    f'{value!r} is not '
                    + ('a list of values' if group.multi_label else 'one')
                    + f' of group "{key}" (values: {list(group.values)}); '
                    'fix the annotation, or add the value to the group in '
                    'the config'
                )
                continue
            read[key] = names if group.multi_label else names[0]
        ann['attributes'] = read
    for key, (ids, values) in unread.items():
        how = CVAT_ATTRIBUTE_KEYS.get(key)
        if how == 'ignore':
            continue
        how = how or _no_choice(values)
        warnings.append(
            _unread_key_warning(
                key,
                ids,
                how
                or 'is no group of attribute_groups (groups: '
                f'{list(spec)})',
            )
        )
    return out


def cvat_coco_groups(
    data: Mapping, warnings: Optional[List[str]] = None
) -> List[dict]:
    """Attribute groups built from the values of a CVAT COCO file.

    Each ``attributes`` key is a single-label group: a boolean key has the
    values ``false``, ``true``; a key of strings has the values found,
    sorted. A key seen only on annotations of some categories lists them in
    ``categories``. Keys of numbers, of other types and CVAT's own keys
    (:data:`.known_fields.CVAT_ATTRIBUTE_KEYS`) are no group.

    Args:
        data (Mapping): Parsed CVAT COCO file.
        warnings (list[str], optional): Keys that are no group are named
            here (except those the table ignores).

    Returns:
        list[dict]: ``attribute_groups`` entries.
    """
    warnings = [] if warnings is None else warnings
    cat_names = {
        c.get('id'): c.get('name')
        for c in as_list(data.get('categories'))
        if isinstance(c, dict)
    }
    groups = []
    for key, entry in _cvat_keys(data).items():
        present = [v for v in entry['values'] if v is not None]
        how = CVAT_ATTRIBUTE_KEYS.get(key)
        if how is not None:
            if how != 'ignore':
                warnings.append(_unread_key_warning(key, entry['ids'], how))
            continue
        why = _no_choice(present) if present else 'has no value'
        if why is not None:
            warnings.append(_unread_key_warning(key, entry['ids'], why))
            continue
        if all(isinstance(v, bool) for v in present):
            values = ['false', 'true']
        else:
            values = sorted(set(present))
        group = dict(name=key, values=values, multi_label=False)
        if set(entry['categories']) != set(cat_names):
            group['categories'] = [
                cat_names.get(c, c) for c in entry['categories']
            ]
        groups.append(group)
    return groups


def to_canonical(
    data: Mapping,
    defects: Optional[List[str]] = None,
    warnings: Optional[List[str]] = None,
    groups: Optional[List[dict]] = None,
) -> dict:
    """Convert any supported form to attribute COCO.

    The input is not modified: the result is a new top-level dict with
    shallow copies of the annotations. Attribute values are left as given
    (names or indices); see :func:`normalise_attribute_values`. The fields
    that published files leave out are filled (:mod:`.completion`).

    Args:
        data (Mapping): Parsed annotation file in any supported form.
        defects (list[str], optional): Conversion defects (errors) are
            appended here (e.g. an ``attribute_ids`` entry that is not
            declared).
        warnings (list[str], optional): Warnings are appended here: what
            was read by a rule of the source form or filled (a value
            listed under a PACO type flagged unknown, a missing ``bbox``,
            skipped annotations without a mask, unknown fields, ...).
        groups (list[dict], optional): ``attribute_groups`` of a
            ``cvat_coco`` file, which declares none (e.g. the config's);
            other forms ignore it.

    Returns:
        dict: The canonical dict; ``attribute_groups`` is always present.
    """
    defects = [] if defects is None else defects
    warnings = [] if warnings is None else warnings
    forms = _declared_forms(data)
    if len(forms) > 1:
        defects.append(
            f'top level: the file mixes attribute forms {forms}; keep one '
            '(the attribute COCO form is "attribute_groups" plus '
            '"attributes" per annotation)'
        )
    fmt = detect_format(data)
    warnings.extend(unknown_field_warnings(data, fmt))
    if fmt == SUBCAT:
        out = _from_subcat(data, defects)
    elif fmt == FASHIONPEDIA:
        out = _from_fashionpedia(data, defects)
    elif fmt == PACO:
        out = _from_paco(data, defects, warnings)
    elif fmt == CVAT_COCO:
        out = _from_cvat_coco(data, defects, warnings, groups)
    else:
        out = dict(data)
        anns = data.get('annotations')
        out['annotations'] = (
            [dict(a) if isinstance(a, dict) else a for a in anns]
            if isinstance(anns, list)
            else anns
        )
        out.setdefault('attribute_groups', [])
    complete_annotations(out, warnings, drop_zero_area=fmt == PACO)
    return out


def _value_name(group, value: Any) -> Any:
    if isinstance(value, str) and value in group.value_set:
        return value  # already a name: the common case
    try:
        return group.values[group.value_index(value)]
    except AttributeSpecError:
        return value  # left as is: the validator reports it


def normalise_attribute_values(data: dict, values: bool = True) -> dict:
    """Replace attribute value indices by names, in place.

    ``attribute_groups`` becomes the plain list of
    :meth:`AttributeSpec.to_list`; a single value given for a multi-label
    group becomes a one-element list. ``partial_attributes`` are treated
    alike. Values that do not resolve are left
    unchanged (the validator reports them).

    Args:
        data (dict): Canonical dict from :func:`to_canonical`.
        values (bool): Also rewrite the annotations' values. The readers
            of the subcat, Fashionpedia and PACO forms already write
            names in lists, so only the attribute COCO form needs it.
            Defaults to True.

    Returns:
        dict: ``data`` itself.
    """
    try:
        spec = AttributeSpec(data.get('attribute_groups'))
    except (AttributeSpecError, TypeError):
        return data
    data['attribute_groups'] = spec.to_list()
    if not values:
        return data
    groups = {g.name: g for g in spec}
    for ann in as_list(data.get('annotations')):
        if not isinstance(ann, dict):
            continue
        for key in ('attributes', 'partial_attributes'):
            if isinstance(ann.get(key), dict):
                ann[key] = _value_names(ann[key], groups)
    return data


def _value_names(attributes: dict, groups: Mapping) -> dict:
    out = {}
    for name, value in attributes.items():
        group = groups.get(name)
        if group is None or value is None:
            out[name] = value
        elif group.multi_label:
            values = value if isinstance(value, (list, tuple)) else [value]
            out[name] = [_value_name(group, v) for v in values]
        else:
            out[name] = _value_name(group, value)
    return out
