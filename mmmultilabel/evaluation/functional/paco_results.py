"""Results in PACO's form <-> results in the project's own form.

PACO's results carry ``attribute_probs``: one probability per attribute
id, the list index being the id (as PACO's evaluator reads it). The
project's own results (see :mod:`.attr_coco_eval`) carry, per attribute
group, ``attribute_scores`` (``{group: [probability of every value]}``)
and ``attributes`` (``{group: [value names]}`` for multi-label groups).

The groups of a PACO file are its attribute types
(``attr_type_to_attr_idxs``) with their values in that order, exactly as
:func:`mmmultilabel.datasets.formats.load_attr_coco` converts the ground
truth, so both forms address the same values:

* :func:`paco_results_to_attr`: ``attribute_probs`` -> ``attribute_scores``
  and ``attributes`` (the values with probability >= ``value_thr``, as
  the model's fusion head labels multi-label groups);
* :func:`attr_results_to_paco`: ``attribute_scores`` -> ``attribute_probs``.
  An attribute id of no type (which PACO never scores) gets 0.

Both raise :class:`~.paco_api.PacoFormatError` naming the result (1-based
number and image id) and the field when the attribute fields cannot be read
for the ground truth's groups; nothing is read as 0 silently.
"""

from typing import List, Mapping, Sequence, Tuple

from .paco_api import PacoFormatError, _check_probs, _is_id, _is_number

__all__ = [
    'paco_attribute_groups',
    'paco_results_to_attr',
    'attr_results_to_paco',
]


def paco_attribute_groups(gt: Mapping) -> Tuple[List[tuple], int]:
    """Attribute groups of a PACO ground-truth dict.

    Args:
        gt (Mapping): PACO dict with ``attributes`` and
            ``attr_type_to_attr_idxs``.

    Returns:
        tuple: ``[(group, [attribute ids], [value names])]`` in file order
        (types without a declared attribute left out, an id kept in the
        first type that lists it) and the length of ``attribute_probs``
        (largest attribute id + 1).
    """
    names = {
        a['id']: a.get('name')
        for a in gt.get('attributes') or ()
        if isinstance(a, Mapping) and _is_id(a.get('id'))
    }
    types = gt.get('attr_type_to_attr_idxs')
    if not names or not isinstance(types, Mapping):
        raise PacoFormatError(
            'PACO ground truth: "attributes" and "attr_type_to_attr_idxs" '
            'are needed to convert results between forms'
        )
    groups, seen = [], set()
    for group, ids in types.items():
        ids = [a for a in ids if a in names and a not in seen]
        seen.update(ids)
        if ids:
            groups.append((group, ids, [names[a] for a in ids]))
    joint = gt.get('joint_obj_attribute_categories') or ()
    largest = max(
        [a for a in names if a >= 0]
        + [e['attr'] for e in joint if _is_id(e.get('attr'))],
        default=-1,
    )
    return groups, largest + 1


def _where(source: str, n: int, res) -> str:
    img = res.get('image_id') if isinstance(res, Mapping) else None
    return f'{source}: result #{n + 1} (image id {img!r})'


def paco_results_to_attr(
    results: Sequence[Mapping],
    gt: Mapping,
    value_thr: float = 0.5,
    source: str = '<results>',
) -> List[dict]:
    """PACO results (``attribute_probs``) in the project's own form.

    Args:
        results (Sequence[Mapping]): PACO results.
        gt (Mapping): PACO ground-truth dict (for the groups).
        value_thr (float): A value is predicted when its probability is at
            least this. Defaults to 0.5.
        source (str): Name of the results, for messages.

    Returns:
        list[dict]: Copies with ``attribute_scores`` and ``attributes``
        instead of ``attribute_probs``.
    """
    groups, num_probs = paco_attribute_groups(gt)
    out = []
    for n, res in enumerate(results):
        where = _where(source, n, res)
        if not isinstance(res, Mapping) or 'attribute_probs' not in res:
            raise PacoFormatError(
                f'{where}: field "attribute_probs" is missing'
            )
        probs = res['attribute_probs']
        _check_probs(probs, num_probs, where)
        new = {k: v for k, v in res.items() if k != 'attribute_probs'}
        new['attribute_scores'] = {
            g: [probs[a] for a in ids] for g, ids, _ in groups
        }
        new['attributes'] = {
            g: [name for a, name in zip(ids, names) if probs[a] >= value_thr]
            for g, ids, names in groups
        }
        out.append(new)
    return out


def attr_results_to_paco(
    results: Sequence[Mapping], gt: Mapping, source: str = '<results>'
) -> List[dict]:
    """Results in the project's own form as PACO results.

    Args:
        results (Sequence[Mapping]): Results with ``attribute_scores``
            (every group of ``gt``, one probability per value).
        gt (Mapping): PACO ground-truth dict (for the groups).
        source (str): Name of the results, for messages.

    Returns:
        list[dict]: Copies with ``attribute_probs`` instead of
        ``attribute_scores`` and ``attributes``.
    """
    groups, num_probs = paco_attribute_groups(gt)
    out = []
    for n, res in enumerate(results):
        where = _where(source, n, res)
        scores = (
            res.get('attribute_scores') if isinstance(res, Mapping) else None
        )
        if not isinstance(scores, Mapping):
            raise PacoFormatError(
                f'{where}: field "attribute_scores" ({{group: [probability '
                'of every value]}}) is missing or not an object'
            )
        probs = [0.0] * num_probs
        for group, ids, names in groups:
            values = scores.get(group)
            if not isinstance(values, (list, tuple)) or len(values) != len(
                ids
            ):
                raise PacoFormatError(
                    f'{where}: field "attribute_scores.{group}" must list '
                    f'{len(ids)} probabilities (values {names}), got '
                    f'{values!r:.200}'
                )
            for a, v in zip(ids, values):
                if not _is_number(v):
                    raise PacoFormatError(
                        f'{where}: field "attribute_scores.{group}" has a '
                        f'non-number {v!r}'
                    )
                probs[a] = float(v)
        new = {
            k: v
            for k, v in res.items()
            if k not in ('attribute_scores', 'attributes')
        }
        new['attribute_probs'] = probs
        out.append(new)
    return out
