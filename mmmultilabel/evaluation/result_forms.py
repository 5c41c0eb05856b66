"""Attribute fields of results, in every supported form.

A result (one detection in COCO's results format) carries its attributes
in one of these forms:

* ``own`` (this project's, written by ``AttrCocoMetric``):
  ``attributes`` ``{group: value | [values]}`` (a group left out is
  unknown) and ``attribute_scores`` ``{group: [probability of every
  value]}`` (a group left out has probability 0);
* ``fashionpedia``: ``attribute_ids``, the list of predicted attribute ids
  of the ground truth's top-level ``attributes``;
* ``paco``: ``attribute_probs``, one probability per attribute id (index
  = id); the values with probability >= 0.5 are the
  predicted ``attributes``, and writing it needs the probabilities of every
  group (``attributes`` is not part of the form).

Which forms a file may use follows from the ground truth's form
(:func:`~mmmultilabel.datasets.formats.detect_format`, see
:data:`ACCEPTED_FORMS`). A result whose attribute fields cannot be read
for the ground truth's groups is a :class:`ResultsError` that names the
field, the file, the result (``#n``, 1-based) and its image id; results
are never scored as "no attributes" silently.

Every form is read into the ``own`` form (:func:`to_own_form`), and
written from it (:func:`convert_results`): readers take ``(result,
vocabulary, where)`` and return ``(attributes, attribute_scores)``;
writers take ``(attributes, attribute_scores, vocabulary, where)`` and
return the fields of their form.
"""

import math
from collections import OrderedDict
from functools import cached_property
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import numpy as np

from mmmultilabel.datasets.formats import (
    ATTR_COCO,
    ATTRIBUTE_ID_MAP,
    FASHIONPEDIA,
    PACO,
    PLAIN_COCO,
    SUBCAT,
    detect_format,
    paco_num_probs,
    to_canonical,
)
from mmmultilabel.utils import AttributeSpec, gc_paused
from mmmultilabel.utils.errors import (
    AttributeSpecError,
    ResultsError,
    is_number,
)

OWN = 'own'

#: Attribute fields of every result form.
FORM_FIELDS: Dict[str, Tuple[str, ...]] = OrderedDict(
    [
        (OWN, ('attributes', 'attribute_scores')),
        (FASHIONPEDIA, ('attribute_ids',)),
        (PACO, ('attribute_probs',)),
    ]
)

#: Result forms accepted for each ground-truth form (native form first).
ACCEPTED_FORMS: Dict[str, Tuple[str, ...]] = {
    ATTR_COCO: (OWN,),
    SUBCAT: (OWN,),
    PLAIN_COCO: (OWN,),
    FASHIONPEDIA: (FASHIONPEDIA, OWN),
    PACO: (PACO, OWN),
}


class AttributeVocabulary:
    """The ground truth's attributes as the result forms need them.

    Attributes:
        gt_format (str): Form of the ground truth (``detect_format``).
        spec (AttributeSpec): Its attribute groups in the ``own`` form.
        id_to_value (dict): ``{attribute id: (group, value name)}`` for the
            Fashionpedia and PACO forms (empty for the others).
        value_to_id (dict): The inverse, ``{(group, value name): id}``.
        num_probs (int): Length of PACO's ``attribute_probs``
            (:func:`~mmmultilabel.datasets.formats.paco_num_probs`); 0 for
            the other forms.
        source (str): Ground-truth file name for messages.
    """

    def __init__(self, gt: Mapping, source: str = '<ground truth>') -> None:
        self.source = source
        self.gt_format = detect_format(gt)
        canonical = to_canonical(gt)
        self.spec = AttributeSpec(canonical.get('attribute_groups') or [])
        # the source ids of the values, as the data set reads them
        self.id_to_value: Dict[Any, Tuple[str, str]] = OrderedDict(
            (e['id'], (e['group'], e['value']))
            for e in canonical.get(ATTRIBUTE_ID_MAP, ())
        )
        self.value_to_id = {v: k for k, v in self.id_to_value.items()}
        self.num_probs = paco_num_probs(gt) if self.gt_format == PACO else 0

    @cached_property
    def fashionpedia_table(self) -> Dict[Any, Tuple[str, str, Optional[int]]]:
        """``{attribute id: (group, value name, index of the value in its
        group or None)}``, the index None when the group is not one of
        :attr:`spec`."""
        table = {}
        for attr_id, (group, name) in self.id_to_value.items():
            index = None
            if group in self.spec.names:
                values = self.spec.group(group).values
                index = values.index(name) if name in values else None
            table[attr_id] = (group, name, index)
        return table


Reader = Callable[[Mapping, AttributeVocabulary, str], Tuple[dict, dict]]
Writer = Callable[[dict, dict, AttributeVocabulary, str], dict]


def _read_own(res: Mapping, vocab: AttributeVocabulary, where: str):
    """``own`` form: checked against the groups, returned as given."""
    attributes = res.get('attributes') or {}
    scores = res.get('attribute_scores') or {}
    try:
        vocab.spec.encode(attributes)
    except (AttributeSpecError, TypeError) as err:
        raise ResultsError(f'{where}: field "attributes": {err}') from None
    check_attribute_scores(scores, vocab.spec, where)
    return dict(attributes), dict(scores)


def check_attribute_scores(
    scores, spec: AttributeSpec, where: str, error: type = ResultsError
) -> None:
    """Raise ``error`` unless ``scores`` (the ``attribute_scores`` of the
    ``own`` form) maps declared groups to one probability per value."""
    if not isinstance(scores, Mapping):
        raise error(
            f'{where}: field "attribute_scores": expected {{group: [the '
            f'probability of every value]}}, got {scores!r}'
        )
    for name, probs in scores.items():
        sl = spec.score_slices.get(name)
        if sl is None:
            raise error(
                f'{where}: field "attribute_scores": undeclared group '
                f'"{name}"; declared groups are {spec.names}'
            )
        if not isinstance(probs, (list, tuple)) or len(probs) != (
            sl.stop - sl.start
        ):
            raise error(
                f'{where}: field "attribute_scores"["{name}"]: expected '
                f'{sl.stop - sl.start} probabilities (values '
                f'{list(spec.group(name).values)}), got {str(probs)[:100]}'
            )


def label_dtype(spec: AttributeSpec) -> type:
    """dtype of small label rows: int8 unless a single-label group has
    more than 127 values (multi-label columns hold -1, 0 or 1)."""
    widest = max((g.num_values for g in spec if not g.multi_label), default=0)
    return np.int8 if widest <= 127 else np.int32


def _read_fashionpedia(res: Mapping, vocab: AttributeVocabulary, where: str):
    """``attribute_ids``: every group known; the listed values are predicted
    (probability 1), the others not (probability 0)."""
    ids = res.get('attribute_ids')
    if not isinstance(ids, list):
        raise ResultsError(
            f'{where}: field "attribute_ids": expected a list of attribute '
            f'ids, got {ids!r}'
        )
    table = vocab.fashionpedia_table
    attributes: Dict[str, list] = {g.name: [] for g in vocab.spec}
    # 0.0 / 1.0 are shared constants: a (N, 294) table of 0/1 costs
    # pointers, not one float object per entry
    scores = {g.name: [0.0] * g.num_values for g in vocab.spec}
    for attr_id in ids:
        try:
            group, name, index = table[attr_id]
        except (KeyError, TypeError):
            raise ResultsError(
                f'{where}: field "attribute_ids": attribute id {attr_id!r} '
                f'is not declared in the top-level "attributes" of '
                f'{vocab.source}'
            ) from None
        values = attributes.get(group)
        if values is not None and name not in values:
            values.append(name)
            if index is not None:
                scores[group][index] = 1.0
    return attributes, scores


#: A value is predicted (``attributes``) when its probability is at least
#: this, as the fusion head's default ``attr_value_thr``.
PACO_VALUE_THR = 0.5


def _group_ids(vocab, group) -> List[int]:
    """Attribute ids of a group's values, in the group's order."""
    try:
        return [vocab.value_to_id[group.name, v] for v in group.values]
    except KeyError as err:
        raise ResultsError(
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
        ResultsError: the field is missing, not a list, of the wrong
            length or holds a non-number.
    """
    if 'attribute_probs' not in res:
        raise ResultsError(f'{where}: field "attribute_probs" is missing')
    probs = res['attribute_probs']
    check_probs(probs, vocab.num_probs, where)
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
        ResultsError: a group without probabilities, or a non-number.
    """
    probs = [0.0] * vocab.num_probs
    for group in vocab.spec:
        values = scores.get(group.name)
        if not isinstance(values, (list, tuple)) or len(values) != len(
            group.values
        ):
            raise ResultsError(
                f'{where}: field "attribute_scores.{group.name}" must list '
                f'{len(group.values)} probabilities (values '
                f'{list(group.values)}), got {values!r:.200}; the PACO form '
                'needs a probability for every attribute'
            )
        for a, v in zip(_group_ids(vocab, group), values):
            if not is_number(v):
                raise ResultsError(
                    f'{where}: field "attribute_scores.{group.name}" has a '
                    f'non-number {v!r}'
                )
            probs[a] = float(v)
    return dict(attribute_probs=probs)


def check_probs(probs, num_probs: int, where: str) -> None:
    """Raise :class:`ResultsError` unless ``probs`` is a list of
    ``num_probs`` finite numbers (PACO's ``attribute_probs``)."""
    if not isinstance(probs, list):
        raise ResultsError(
            f'{where}: field "attribute_probs" must be a list of '
            f'{num_probs} probabilities (index = attribute id), got '
            f'{type(probs).__name__}'
        )
    if len(probs) != num_probs:
        raise ResultsError(
            f'{where}: field "attribute_probs" has {len(probs)} values, '
            f'expected {num_probs} (one per attribute id 0..'
            f'{num_probs - 1}, index = attribute id, as PACO reads it)'
        )
    if all(type(p) in (float, int) for p in probs) and math.isfinite(
        sum(probs)
    ):
        return  # plain finite numbers (the sum is NaN/inf otherwise)
    bad = [n for n, p in enumerate(probs) if not is_number(p)]
    if bad:
        raise ResultsError(
            f'{where}: field "attribute_probs" has non-numbers (or NaN/inf) '
            f'at position(s) {bad[:5]}: {[probs[n] for n in bad[:5]]}'
        )


def _write_own(attributes, scores, vocab, where) -> dict:
    return dict(attributes=attributes, attribute_scores=scores)


def _write_fashionpedia(attributes, scores, vocab, where) -> dict:
    """The ids of the predicted values (``attributes``); probabilities are
    not part of the Fashionpedia form."""
    ids = []
    for group, values in attributes.items():
        if values is None:
            continue
        values = values if isinstance(values, (list, tuple)) else [values]
        spec_group = vocab.spec.group(group)
        for v in values:
            name = spec_group.values[spec_group.value_index(v)]
            attr_id = vocab.value_to_id.get((group, name))
            if attr_id is None:
                raise ResultsError(
                    f'{where}: value "{name}" of group "{group}" has no '
                    f'attribute id in {vocab.source}'
                )
            ids.append(attr_id)
    return dict(attribute_ids=ids)


#: ``{form: reader}``; a reader returns the ``own`` fields of a result.
READERS: Dict[str, Reader] = OrderedDict(
    [
        (OWN, _read_own),
        (FASHIONPEDIA, _read_fashionpedia),
        (PACO, read_paco_result),
    ]
)
#: ``{form: writer}``; a writer returns the fields of its form.
WRITERS: Dict[str, Writer] = OrderedDict(
    [
        (OWN, _write_own),
        (FASHIONPEDIA, _write_fashionpedia),
        (PACO, write_paco_result),
    ]
)


def result_where(source: str, n: int, res: Mapping) -> str:
    """``<source>: result #n (image id i)`` of result ``n`` (0-based)."""
    return f'{source}: result #{n + 1} (image id {res.get("image_id")!r})'


def result_form(res: Mapping) -> Optional[str]:
    """Form of one result by its fields; None if it has no attribute
    field. A result with fields of two forms is an error."""
    forms = [
        f for f, keys in FORM_FIELDS.items() if any(k in res for k in keys)
    ]
    if len(forms) > 1:
        fields = [k for f in forms for k in FORM_FIELDS[f] if k in res]
        raise ResultsError(f'fields {fields} of different forms {forms}')
    return forms[0] if forms else None


def detect_result_form(
    results: Sequence[Mapping], vocab: AttributeVocabulary, source: str
) -> Optional[str]:
    """The one form of a results list, checked against the ground truth.

    Returns:
        str | None: The form; None when the list is empty or the ground
        truth has no attribute groups and no result has attribute fields.

    Raises:
        ResultsError: naming the first result that has no attribute field
            (when the ground truth has groups), fields of another form than
            the first result, or a form that the ground truth's form does
            not accept.
    """
    accepted = ACCEPTED_FORMS.get(vocab.gt_format, (OWN,))
    fields = ' or '.join(
        '/'.join(f'"{k}"' for k in FORM_FIELDS[f]) for f in accepted
    )
    form = None
    for n, res in enumerate(results):
        if not isinstance(res, Mapping):
            raise ResultsError(f'{source}: result #{n + 1} is not an object')
        try:
            this = result_form(res)
        except ResultsError as err:
            raise ResultsError(
                f'{result_where(source, n, res)}: {err}'
            ) from None
        if this is None:
            if len(vocab.spec) == 0:
                continue
            raise ResultsError(
                f'{result_where(source, n, res)}: no attribute field, while '
                f'{vocab.source} ({vocab.gt_format} form) has attribute '
                f'groups; give {fields}'
            )
        if form is None:
            form = this
            if form not in accepted:
                raise ResultsError(
                    f'{result_where(source, n, res)}: field '
                    f'"{FORM_FIELDS[form][0]}" is the {form} form, which '
                    f'cannot be read against {vocab.source} '
                    f'({vocab.gt_format} form); give {fields} '
                    '(tools/dataset_converters/convert_results.py '
                    'converts between forms)'
                )
        elif this != form:
            raise ResultsError(
                f'{result_where(source, n, res)}: fields of the {this} '
                'form, while the first result with attributes is in the '
                f'{form} form; use one form per file'
            )
    return form


def convert_results(
    results: Sequence[Mapping],
    vocab: AttributeVocabulary,
    to_form: str,
    source: str = '<results>',
) -> List[dict]:
    """Results with their attribute fields in ``to_form``.

    Other fields are kept; the fields of the input form are replaced. The
    input is not modified.

    Args:
        results (Sequence[Mapping]): Parsed results, one form per list.
        vocab (AttributeVocabulary): The ground truth's attributes.
        to_form (str): A key of :data:`WRITERS`.
        source (str): Results file name for messages.

    Returns:
        list[dict]: New result dicts.

    Raises:
        ResultsError: for unreadable attribute fields (see
            :func:`detect_result_form`; for PACO ``attribute_probs`` in,
            or ``attribute_scores`` of a group out) or a form without
            reader/writer.
    """
    if not isinstance(results, list):
        raise ResultsError(
            f'{source}: expected a list of results (COCO results format), '
            f'got {type(results).__name__}'
        )
    form = detect_result_form(results, vocab, source)
    if form is None:
        return [dict(r) for r in results]
    if to_form not in WRITERS:
        raise ValueError(
            f'unknown result form {to_form!r}; known: {list(WRITERS)}'
        )
    read, write = READERS[form], WRITERS[to_form]
    drop = set(FORM_FIELDS[form])
    out = []
    # a few dicts and lists per result, all kept: the cyclic collector
    # would rescan them over and over (gc_paused)
    with gc_paused():
        for n, res in enumerate(results):
            where = result_where(source, n, res)
            attributes, scores = read(res, vocab, where)
            new = {k: v for k, v in res.items() if k not in drop}
            try:
                new.update(write(attributes, scores, vocab, where))
            except AttributeSpecError as err:
                raise ResultsError(f'{where}: {err}') from None
            out.append(new)
    return out


def to_own_form(
    results: Sequence[Mapping],
    gt: Mapping,
    source: str = '<results>',
    gt_source: str = '<ground truth>',
) -> List[dict]:
    """Results in the ``own`` form for the ground truth ``gt``.

    Args:
        results (Sequence[Mapping]): Parsed results in any accepted form.
        gt (Mapping): Parsed ground truth (any form).
        source (str): Results file name for messages.
        gt_source (str): Ground-truth file name for messages.

    Returns:
        list[dict]: Results with ``attributes`` / ``attribute_scores``.
    """
    vocab = AttributeVocabulary(gt, gt_source)
    return convert_results(results, vocab, OWN, source)
