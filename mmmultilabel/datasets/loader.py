"""Load an annotation file as attribute COCO: read, convert, validate.

The top of the data modules' stack, which reads from bottom to top:
:mod:`mmmultilabel.utils.attributes` (the attribute layout) <-
:mod:`.formats` (parsing and the readers of the foreign forms) <-
:mod:`.validation` (the defects of a converted file) <-
:mod:`.validation_cache` (the files that passed) <- this module.
"""

from logging import WARNING
from pathlib import Path
from typing import List, Mapping, Optional, Union

from mmengine.fileio import get_text
from mmengine.logging import print_log

from mmmultilabel.utils import attributes, gc_paused
from mmmultilabel.utils.errors import AnnotationDefectError, ConfigError

from . import validation_cache
from .formats import (
    FASHIONPEDIA,
    PACO,
    SUBCAT,
    detect_format,
    normalise_attribute_values,
    parse_annotation_text,
    to_canonical,
)
from .validation import check_attr_coco, is_parsable

#: How :func:`load_attr_coco` validates a file.
VALIDATE_MODES = ('auto', 'always', 'never')


def validation_mode(validate: Union[bool, str]) -> Union[bool, str]:
    """``validate`` of :func:`load_attr_coco` checked: one of
    :data:`VALIDATE_MODES`, or False; True is ``'always'``.

    Raises:
        ConfigError: for any other value.
    """
    if validate is True or validate is False:
        return 'always' if validate else False
    if validate not in VALIDATE_MODES:
        raise ConfigError(
            f'validate={validate!r}: expected one of {VALIDATE_MODES} '
            '(or True / False)'
        )
    return validate


# a large file converts into millions of small objects, none in a cycle:
# the cyclic collector would rescan them over and over
@gc_paused()
def load_attr_coco(
    ann_file_or_dict: Union[str, Path, Mapping],
    backend_args: Optional[dict] = None,
    validate: Union[bool, str] = True,
    warnings: Optional[List[str]] = None,
    log_warnings: bool = True,
    attribute_groups: Optional[List[dict]] = None,
) -> dict:
    """Load attribute annotations in any supported form as attribute COCO.

    Args:
        ann_file_or_dict (str | Path | Mapping): A JSON file (local path or
            URI) or an already parsed dict.
        backend_args (dict, optional): Arguments for mmengine's file
            backend. Defaults to None.
        validate (bool | str): ``'always'`` (or True): check the data and
            raise on any defect. ``'auto'``: the same, but a file whose
            text passed before (:mod:`.validation_cache`) is not checked
            again; its recorded warnings are shown. ``'never'``: no full
            check. Without the full check, cheap checks
            (:func:`~.validation.is_parsable`) still run; a file that
            fails them is checked in full. False: no check at all, for
            data made from validated data (a dict that is not a mapping
            is still reported). Defaults to True.
        warnings (list[str], optional): The warnings (see
            :func:`to_canonical`; with validation also those of the
            validator) are appended here.
        log_warnings (bool): Also log each warning, prefixed by the file
            name, with mmengine's current logger. Defaults to True.
        attribute_groups (list[dict], optional): The groups of a file
            that declares none (the COCO 1.0 of CVAT and Datumaro), e.g.
            the config's; values are matched by name.

    Returns:
        dict: COCO instances dict with ``attribute_groups`` (plain dicts as
        :meth:`AttributeSpec.to_list`) and, per annotation with known
        attributes, ``attributes`` whose values are names (lists of names
        for multi-label groups); ``bbox`` and ``iscrowd`` on every
        annotation.

    Raises:
        AnnotationSyntaxError: if the file is not valid JSON.
        AnnotationDefectError: if the data is validated and has defects;
            it lists all of them.
        ConfigError: if ``validate`` is none of the above.
    """
    mode = validation_mode(validate)
    key = None
    if isinstance(ann_file_or_dict, (str, Path)):
        name = str(ann_file_or_dict)
        text = get_text(name, backend_args=backend_args)
        if mode == 'auto':
            key = validation_cache.entry_key(
                text, dict(attribute_groups=attribute_groups)
            )
        raw = parse_annotation_text(text, name)
        del text
    elif isinstance(ann_file_or_dict, Mapping):
        name, raw = '<dict>', ann_file_or_dict
    else:
        raise TypeError(
            'load_attr_coco expects a file path or a dict, got '
            f'{type(ann_file_or_dict).__name__}'
        )
    recorded = None if key is None else validation_cache.lookup(key)
    data = None
    found: List[str] = []
    skip = mode in ('never', False) or recorded is not None
    if skip and isinstance(raw, Mapping):  # not a mapping: a defect
        data = to_canonical(raw, warnings=found, groups=attribute_groups)
        if mode is not False and not is_parsable(data):
            data, found = None, []  # validated in full, to name the defects
        elif recorded is not None:
            found = recorded
    if data is None:
        data, defects = check_attr_coco(
            raw, warnings=found, groups=attribute_groups
        )
        if defects:
            raise AnnotationDefectError(name, defects)
        if key is not None:
            validation_cache.record(key, name, found)
    if log_warnings:
        for warning in found:
            print_log(f'{name}: {warning}', logger='current', level=WARNING)
    if warnings is not None:
        warnings.extend(found)
    # the readers of the foreign forms write names in lists already
    converted = detect_format(raw) in (FASHIONPEDIA, PACO, SUBCAT)
    return normalise_attribute_values(data, values=not converted)


def attribute_groups_of_file(path: str) -> list:
    """``attribute_groups`` declared by an annotation file of any form."""
    return load_attr_coco(path, validate=False, log_warnings=False)[
        'attribute_groups'
    ]


# AttributeSpec('path/to/ann.json') takes the groups a file declares; the
# readers of the file forms live here, above the attribute layout.
attributes.set_group_file_reader(attribute_groups_of_file)
