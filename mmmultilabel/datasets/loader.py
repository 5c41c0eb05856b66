"""Load an annotation file as attribute COCO: read, convert, validate.

The top of the data modules' stack, which reads from bottom to top:
:mod:`mmmultilabel.utils.attributes` (the attribute layout) <-
:mod:`.formats` (parsing and the readers of the foreign forms) <-
:mod:`.validation` (the defects of a converted file) <- this module.
"""

from logging import WARNING
from pathlib import Path
from typing import List, Mapping, Optional, Union

from mmengine.logging import print_log

from mmmultilabel.utils import attributes, gc_paused
from mmmultilabel.utils.errors import AnnotationDefectError

from .formats import (
    FASHIONPEDIA,
    PACO,
    SUBCAT,
    detect_format,
    normalise_attribute_values,
    read_annotation_file,
    to_canonical,
)
from .validation import check_attr_coco


# a large file converts into millions of small objects, none in a cycle:
# the cyclic collector would rescan them over and over
@gc_paused()
def load_attr_coco(
    ann_file_or_dict: Union[str, Path, Mapping],
    backend_args: Optional[dict] = None,
    validate: bool = True,
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
        validate (bool): Check the data and raise on any defect. Defaults
            to True.
        warnings (list[str], optional): The warnings (see
            :func:`to_canonical`; with ``validate`` also those of the
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
        AnnotationDefectError: if ``validate`` and the data has defects;
            it lists all of them.
    """
    if isinstance(ann_file_or_dict, (str, Path)):
        name = str(ann_file_or_dict)
        raw = read_annotation_file(ann_file_or_dict, backend_args)
    elif isinstance(ann_file_or_dict, Mapping):
        name, raw = '<dict>', ann_file_or_dict
    else:
        raise TypeError(
            'load_attr_coco expects a file path or a dict, got '
            f'{type(ann_file_or_dict).__name__}'
        )
    found: List[str] = []
    if validate or not isinstance(raw, Mapping):  # not a dict: a defect
        data, defects = check_attr_coco(
            raw, warnings=found, groups=attribute_groups
        )
        if defects:
            raise AnnotationDefectError(name, defects)
    else:
        data = to_canonical(raw, warnings=found, groups=attribute_groups)
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
