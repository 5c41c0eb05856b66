"""Fill what real annotation files leave out, as the COCO tools read them.

Published files do not all carry every COCO field: Fashionpedia's
annotations have no ``bbox``, PACO's have no ``iscrowd``, and PACO-EGO4D
has annotations with ``segmentation: []`` in a data set of masks.
:func:`complete_annotations` reads them as pycocotools and PACO do:

* a missing ``bbox`` is the box of the mask, ``maskUtils.toBbox`` of the
  merged RLE of its polygons (or of its RLE), as pycocotools'
  ``COCO.loadRes`` computes it for ``segm`` results;
* a missing ``iscrowd`` is 0;
* an annotation without a mask (``segmentation`` missing, null or empty)
  in a data set where other annotations have masks is skipped, as PACO's
  ``PACO._create_index`` skips it;
* in a PACO file, an annotation of ``area`` 0 is skipped, as PACO's
  (LVIS') evaluation drops ground truth of area 0.

Each rule that applies adds one warning with its count and the first ids.
Nothing here raises on malformed data: what cannot be read is left as it
is for the validator to report.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pycocotools.mask as mask_utils

from mmmultilabel.utils.errors import is_number

#: How many ids a warning names before "...".
MAX_IDS_SHOWN = 5


def id_list(ids: Sequence[Any], limit: int = MAX_IDS_SHOWN) -> str:
    """``1, 2, 3, ...`` (at most ``limit`` ids) for messages."""
    shown = ', '.join(str(i) for i in ids[:limit])
    return shown + (', ...' if len(ids) > limit else '')


def is_key(value: Any) -> bool:
    """Whether ``value`` can be an id (an int or a string, not a bool)."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """Whether ``value`` is an int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_positive_int(value: Any) -> bool:
    """Whether ``value`` is an int > 0 (not a bool): a size in pixels."""
    return is_int(value) and value > 0


def as_list(value: Any) -> list:
    """``value`` if it is a list, else ``[]`` (malformed data is read as
    empty; the validator reports it)."""
    return value if isinstance(value, list) else []


def image_sizes(data: Mapping) -> Dict[Any, Tuple[int, int]]:
    """``{image id: (height, width)}`` of the images with a usable size."""
    sizes = {}
    for img in as_list(data.get('images')):
        if not isinstance(img, dict):
            continue
        h, w = img.get('height'), img.get('width')
        if is_key(img.get('id')) and is_positive_int(h) and is_positive_int(w):
            sizes.setdefault(img['id'], (h, w))
    return sizes


def rle_counts_defect(counts: list, height: int, width: int) -> Optional[str]:
    """Why the run lengths of an uncompressed RLE are no mask of the size.

    pycocotools takes such counts as they are: run lengths that do not add
    up to ``height * width`` decode into a mask of another size.

    Args:
        counts (list): The ``counts`` of an uncompressed RLE.
        height (int): The RLE's height.
        width (int): The RLE's width.

    Returns:
        str | None: The defect, or None when the counts are a mask.
    """
    if not all(is_int(c) and c >= 0 for c in counts):
        return 'the run lengths of an uncompressed RLE must be integers >= 0'
    total = sum(counts)
    if total != height * width:
        return (
            f'the run lengths add up to {total} pixels, not {height}x{width} '
            f'= {height * width} (height x width)'
        )
    return None


def segmentation_rle(seg: Any, height: int, width: int) -> Optional[dict]:
    """The mask of a COCO ``segmentation`` as one RLE, as pycocotools.

    Polygons are rasterised with ``frPyObjects`` and merged, an
    uncompressed RLE (``counts`` a list) is compressed, a compressed RLE is
    taken as it is: ``COCO.annToRLE`` of pycocotools.

    Args:
        seg (Any): Polygons ``[[x1, y1, ...], ...]`` or an RLE dict.
        height (int): Image height.
        width (int): Image width.

    Returns:
        dict | None: The RLE, or None if ``seg`` is not a well-formed mask
        (the validator says why).
    """
    if isinstance(seg, list):
        if not seg or not all(
            isinstance(p, list)
            and len(p) >= 6
            and len(p) % 2 == 0
            and all(is_number(v) for v in p)
            for p in seg
        ):
            return None
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    if not isinstance(seg, dict):
        return None
    size, counts = seg.get('size'), seg.get('counts')
    if not (
        isinstance(size, list)
        and len(size) == 2
        and list(size) == [height, width]
    ):
        return None
    if isinstance(counts, list):
        if rle_counts_defect(counts, height, width) is not None:
            return None
        return mask_utils.frPyObjects(seg, height, width)
    if isinstance(counts, str):
        return seg
    return None


def mask_bbox(seg: Any, height: int, width: int) -> Optional[List[float]]:
    """``[x, y, w, h]`` of a mask, ``maskUtils.toBbox`` of its RLE.

    Returns:
        list[float] | None: The box, or None when the mask is malformed or
        covers no pixel.
    """
    rle = segmentation_rle(seg, height, width)
    if rle is None:
        return None
    try:
        box = [float(v) for v in mask_utils.toBbox(rle).reshape(-1)]
    except (TypeError, ValueError):  # e.g. a corrupt compressed string
        return None
    if box[2] <= 0 or box[3] <= 0:
        return None
    return box


def _has_mask(ann: Mapping) -> bool:
    return bool(ann.get('segmentation'))


def no_bbox(ann: Mapping) -> bool:
    """Missing, null or ``[]`` (Fashionpedia's test for no box)."""
    return ann.get('bbox') is None or ann.get('bbox') == []


def _skip(data: dict, anns: list, skip) -> Tuple[list, list]:
    """Drop the annotation dicts for which ``skip(ann)`` holds from
    ``data['annotations']``; the kept list and the ids of the dropped."""
    skipped = [a.get('id') for a in anns if isinstance(a, dict) and skip(a)]
    if skipped:
        anns = [a for a in anns if not (isinstance(a, dict) and skip(a))]
        data['annotations'] = anns
    return anns, skipped


def complete_annotations(
    data: dict, warnings: List[str], drop_zero_area: bool = False
) -> None:
    """Apply the reading rules of the module docstring, in place.

    Args:
        data (dict): Canonical dict whose ``annotations`` are this
            function's own copies (they are modified).
        warnings (list[str]): One message per rule that applied is
            appended.
        drop_zero_area (bool): Skip annotations of ``area`` 0 (PACO).
    """
    anns = data.get('annotations')
    if not isinstance(anns, list):
        return
    if drop_zero_area:
        anns, zero = _skip(
            data, anns, lambda a: is_number(a.get('area')) and a['area'] == 0
        )
        if zero:
            warnings.append(
                f'top level: field "area": skipped {len(zero)} '
                f"annotation(s) of area 0 (ids {id_list(zero)}), as PACO's "
                'evaluation drops them; give the mask area in pixels to '
                'use them'
            )
    if any(isinstance(a, dict) and _has_mask(a) for a in anns):
        anns, skipped = _skip(data, anns, lambda a: not _has_mask(a))
        if skipped:
            warnings.append(
                f'top level: field "annotations": skipped {len(skipped)} '
                f'annotation(s) without a mask (ids {id_list(skipped)}) in '
                'a data set of masks, as PACO does; give them a polygon or '
                'RLE "segmentation" to use them'
            )
    dicts = [a for a in anns if isinstance(a, dict)]
    no_crowd = [a.get('id') for a in dicts if 'iscrowd' not in a]
    for ann in dicts:
        ann.setdefault('iscrowd', 0)
    if no_crowd:
        warnings.append(
            f'top level: field "iscrowd": missing on {len(no_crowd)} '
            f'annotation(s) (ids {id_list(no_crowd)}); read as 0 (not a '
            'crowd region)'
        )
    sizes = image_sizes(data)
    derived = []
    for ann in dicts:
        if not no_bbox(ann) or not _has_mask(ann):
            continue
        img_id = ann.get('image_id')
        size = sizes.get(img_id) if is_key(img_id) else None
        box = None if size is None else mask_bbox(ann['segmentation'], *size)
        if box is not None:
            ann['bbox'] = box
            derived.append(ann.get('id'))
    if derived:
        warnings.append(
            f'top level: field "bbox": missing on {len(derived)} '
            f'annotation(s) (ids {id_list(derived)}); taken from their '
            'masks as pycocotools does (maskUtils.toBbox)'
        )
