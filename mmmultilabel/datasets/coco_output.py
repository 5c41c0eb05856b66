"""The attribute COCO that the converters of annotation tools write.

Shared by the labelme, CVAT and Label Studio converters: each reads its
tool's instances as ``(image, annotations)`` pairs, every annotation naming
its ``category``; here the values found per group become COCO
``attributes`` (:func:`coco_attributes`), the pairs are numbered into one
COCO dict (:func:`build_coco`) and the shapes skipped are named in one
warning (:func:`skipped_warning`).
"""

from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from mmmultilabel.utils import InputError


def coco_attributes(
    found: Iterable[Tuple[str, Sequence[str], bool, Sequence[str]]],
) -> dict:
    """COCO ``attributes`` of one instance from ``(name, declared values,
    multi_label, values found)`` per group given on it, in output order: a
    multi-label group lists the values found in declared order (none:
    known, none of them), a single-label group takes its one value (none:
    unknown, left out).

    Raises:
        InputError: for a single-label group with several values.
    """
    out = {}
    for name, declared, multi_label, values in found:
        values = list(dict.fromkeys(values))
        if multi_label:
            out[name] = [v for v in declared if v in values]
        elif len(values) > 1:
            raise InputError(
                f'single-label group "{name}" got several values {values}'
            )
        elif values:
            out[name] = values[0]
    return out


def build_coco(
    converted: Sequence[Tuple[dict, List[dict]]],
    categories: Optional[List[dict]],
    attribute_groups: List[dict],
) -> dict:
    """Number the images and annotations of converted files.

    Args:
        converted (Sequence[tuple[dict, list[dict]]]): Per image, its entry
            (without ``id``) and its annotations, each with ``category``
            (a name) instead of ``category_id``.
        categories (list[dict], optional): COCO categories; None infers
            them from the names of the annotations that are not crowd
            regions (sorted, ids from 1).
        attribute_groups (list[dict]): ``attribute_groups`` of the output.

    A crowd region (``iscrowd: 1``) is written once per category: COCO
    evaluation ignores a crowd region only for detections of its own
    category.

    Returns:
        dict: Attribute COCO.
    """
    if categories is None:
        names = sorted(
            {
                a['category']
                for _, anns in converted
                for a in anns
                if not a['iscrowd']
            }
        )
        categories = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    cat_ids = {c['name']: c['id'] for c in categories}
    coco = dict(
        images=[],
        annotations=[],
        categories=categories,
        attribute_groups=attribute_groups,
    )
    for img_id, (image, anns) in enumerate(converted, start=1):
        coco['images'].append(dict(id=img_id, **image))
        for ann in anns:
            ann = dict(ann)
            category = ann.pop('category')
            ids = (
                [c['id'] for c in categories]
                if ann['iscrowd']
                else [cat_ids[category]]
            )
            for cat_id in ids:
                coco['annotations'].append(
                    dict(
                        id=len(coco['annotations']) + 1,
                        image_id=img_id,
                        category_id=cat_id,
                        **ann,
                    )
                )
    return coco


def skipped_warning(
    where: str, skipped: Mapping[str, int], what: str
) -> Optional[str]:
    """``WHERE: skipped N shape(s) that are not WHAT to learn (n kind,
    ...)``, or None when nothing was skipped."""
    shown = {kind: n for kind, n in skipped.items() if n}
    if not shown:
        return None
    parts = ', '.join(f'{n} {kind}' for kind, n in sorted(shown.items()))
    return (
        f'{where}: skipped {sum(shown.values())} shape(s) that are not '
        f'{what} to learn ({parts})'
    )
