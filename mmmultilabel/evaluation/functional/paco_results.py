"""PACO's result form (``attribute_probs``) <-> the project's own form.

PACO's results carry ``attribute_probs``: one probability per attribute
id, the list index being the id (as PACO's evaluator reads it). The
project's own results carry, per attribute group, ``attribute_scores``
(``{group: [probability of every value]}``) and ``attributes``
(``{group: [value names]}``).

The groups of a PACO file are its attribute types
(``attr_type_to_attr_idxs``) with their values in that order, exactly as
:func:`mmmultilabel.datasets.loader.load_attr_coco` converts the ground
truth (:class:`~.result_forms.AttributeVocabulary` holds them), so both
forms address the same values. These are the per-result reader and writer
of the ``paco`` form in :mod:`.result_forms`; whole files are converted
with :func:`~.result_forms.convert_results` (or
``tools/dataset_converters/convert_results.py``):

* :func:`read_paco_result`: ``attribute_probs`` -> ``attribute_scores``
  and ``attributes`` (the values with probability >=
  :data:`PACO_VALUE_THR`, as the model's fusion head labels multi-label
  groups);
* :func:`write_paco_result`: ``attribute_scores`` -> ``attribute_probs``
  (``attributes`` is not part of the PACO form). Every group needs its
  probabilities: PACO scores each (category, attribute) pair with one.
  An attribute id of no type (which PACO never scores) gets 0.

Both raise :class:`~.paco_api.PacoFormatError` naming the result (1-based
number and image id) and the field when the attribute fields cannot be read
for the ground truth's groups; nothing is read as 0 silently.
"""

from typing import Dict, List, Mapping, Tuple

from .paco_api import PacoFormatError, _check_probs, _is_number

__all__ = ['PACO_VALUE_THR', 'read_paco_result', 'write_paco_result']

#: A value is predicted (``attributes``) when its probability is at least
#: this, as the fusion head's default ``attr_value_thr``.
PACO_VALUE_THR = 0.5


def _group_ids(vocab, group) -> List[int]:
    """Attribute ids of a group's values, in the group's order."""
    try:
        return [vocab.value_to_id[group.name, v] for v in group.values]
    except KeyError as err:
        raise PacoFormatError(
            f'{vocab.source}: value {err.args[0][1]!r} of attribute type '
            f'"{group.name}" has no attribute id in "attr_type_to_attr_idxs"'
        ) from None


def read_paco_result(
    res: Mapping, vocab, where: str
) -> Tuple[Dict[str, list], Dict[str, list]]:
    """Own-form fields of one PACO result.

    Args:
        res (Mapping): One result with ``attribute_probs`` (list of
            ``vocab.num_probs`` numbers, index = attribute id).
        vocab (AttributeVocabulary): The PACO ground truth's attributes.
        where (str): ``<file>: result #n (image id i)`` for messages.

    Returns:
        tuple[dict, dict]: ``attributes`` ``{group: [value names]}`` and
        ``attribute_scores`` ``{group: [probability of every value]}``.

    Raises:
        PacoFormatError: the field is missing, not a list, of the wrong
            length or holds a non-number.
    """
    if 'attribute_probs' not in res:
        raise PacoFormatError(f'{where}: field "attribute_probs" is missing')
    probs = res['attribute_probs']
    _check_probs(probs, vocab.num_probs, where)
    scores, attributes = {}, {}
    for group in vocab.spec:
        values = [float(probs[a]) for a in _group_ids(vocab, group)]
        scores[group.name] = values
        attributes[group.name] = [
            v for v, p in zip(group.values, values) if p >= PACO_VALUE_THR
        ]
    return attributes, scores


def write_paco_result(
    attributes: Mapping, scores: Mapping, vocab, where: str
) -> Dict[str, List[float]]:
    """``attribute_probs`` of one result from its own-form fields.

    Args:
        attributes (Mapping): ``{group: values}`` (not used: the PACO form
            has probabilities only).
        scores (Mapping): ``{group: [probability of every value]}``, every
            group of ``vocab``.
        vocab (AttributeVocabulary): The PACO ground truth's attributes.
        where (str): ``<file>: result #n (image id i)`` for messages.

    Returns:
        dict: ``{'attribute_probs': [vocab.num_probs floats]}``.

    Raises:
        PacoFormatError: a group without probabilities, or a non-number.
    """
    probs = [0.0] * vocab.num_probs
    for group in vocab.spec:
        values = scores.get(group.name)
        if not isinstance(values, (list, tuple)) or len(values) != len(
            group.values
        ):
            raise PacoFormatError(
                f'{where}: field "attribute_scores.{group.name}" must list '
                f'{len(group.values)} probabilities (values '
                f'{list(group.values)}), got {values!r:.200}; the PACO form '
                'needs a probability for every attribute'
            )
        for a, v in zip(_group_ids(vocab, group), values):
            if not _is_number(v):
                raise PacoFormatError(
                    f'{where}: field "attribute_scores.{group.name}" has a '
                    f'non-number {v!r}'
                )
            probs[a] = float(v)
    return dict(attribute_probs=probs)
