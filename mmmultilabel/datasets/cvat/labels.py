"""CVAT label specs (``<meta>``) -> categories and attribute groups.

Each ``<label>`` of ``<meta><project|task|job><labels>`` is a category;
its ``<attributes>`` apply to it only. An attribute becomes a group:

* ``select`` and ``radio``: a single-label group of its ``<values>``
  (newline-separated in the XML, read exactly; CVAT's ``__undefined__``,
  "not set", is no value);
* ``checkbox``: a single-label group of values ``false``, ``true``; with
  ``checkboxes='group'`` the checkboxes of a label form one multi-label
  group (named by ``checkbox_group``) whose values are their names;
* ``number`` and ``text``: no group (skipped with a warning).

The same attribute name with the same values and kind under several labels
is one group listing those labels in ``categories``; the same name with
different values or kinds gives one group per label, named
``<label>.<attribute>``. ``categories`` is left out when a group applies to
every label. With ``occluded=True`` the ``occluded`` flag of the shapes is
one more single-label group ``occluded`` (``false``, ``true``) of every
label.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple
from xml.etree.ElementTree import Element

from mmmultilabel.utils import InputError

#: Input types read as single-label groups of their values.
CHOICE_TYPES = ('select', 'radio')
#: Input types that are no group: skipped with a warning.
SKIPPED_TYPES = ('number', 'text')
#: The values of a checkbox group (one per checkbox).
BOOL_VALUES = ('false', 'true')
#: CVAT's value of an attribute that was never set: unknown.
UNDEFINED = '__undefined__'
#: Name of the group of the shapes' ``occluded`` flag.
OCCLUDED_GROUP = 'occluded'


class CvatError(InputError):
    """A CVAT file that cannot be read; the message says where and why."""


@dataclass
class CvatAttribute:
    """One ``<attribute>`` of a label spec."""

    name: str
    input_type: str
    values: Tuple[str, ...]


@dataclass
class GroupRef:
    """How one label fills one group.

    Attributes:
        group (str): Group name.
        kind (str): ``choice`` (a select/radio/checkbox value), ``flags``
            (checkboxes grouped: the names of those that are true) or
            ``occluded``.
        sources (tuple[str]): The label's attribute names read.
    """

    group: str
    kind: str
    sources: Tuple[str, ...]


@dataclass
class CvatLabels:
    """Categories and attribute groups of a CVAT export.

    Attributes:
        categories (list[dict]): ``{id, name}`` in ``<meta>`` order.
        groups (list[dict]): ``attribute_groups`` entries, with
            ``categories`` when a group applies to some labels only.
        refs (dict): Label name -> its :class:`GroupRef` list.
        specs (dict): Label name -> {attribute name: CvatAttribute}.
        warnings (list[str]): Attributes that are no group.
    """

    categories: List[dict]
    groups: List[dict]
    refs: Dict[str, List[GroupRef]]
    specs: Dict[str, Dict[str, CvatAttribute]]
    warnings: List[str] = field(default_factory=list)


def labels_element(meta: Optional[Element]) -> Optional[Element]:
    """``<labels>`` of ``<meta>``: project, task or job, first found."""
    if meta is None:
        return None
    for owner in ('project', 'task', 'job'):
        labels = meta.find(f'{owner}/labels')
        if labels is not None:
            return labels
    return None


def _text(el: Optional[Element]) -> str:
    return '' if el is None or el.text is None else el.text


def _read_labels(labels: Element, where: str) -> Dict[str, list]:
    """Label name -> its CvatAttribute list (skeleton points left out)."""
    out: Dict[str, list] = {}
    for label in labels.findall('label'):
        name = _text(label.find('name'))
        if not name:
            raise CvatError(f'{where}: a <label> without a <name>')
        if _text(label.find('parent')):
            continue  # a point of a skeleton: skeletons are not read
        if name in out:
            raise CvatError(f'{where}: label "{name}" is declared twice')
        attrs = []
        for attr in label.findall('attributes/attribute'):
            text = _text(attr.find('values'))
            values = text.split('\n') if text else []
            attrs.append(
                CvatAttribute(
                    name=_text(attr.find('name')),
                    input_type=_text(attr.find('input_type')),
                    values=tuple(v for v in values if v != UNDEFINED),
                )
            )
        out[name] = attrs
    return out


def read_labels(
    meta: Optional[Element],
    where: str,
    checkboxes: str = 'binary',
    checkbox_group: str = 'flags',
    occluded: bool = False,
) -> CvatLabels:
    """Categories and groups of the label specs of ``<meta>``.

    Args:
        meta (Element, optional): The ``<meta>`` element.
        where (str): The file, for messages.
        checkboxes (str): ``binary`` (a false/true group per checkbox) or
            ``group`` (the checkboxes of a label form one multi-label
            group). Defaults to ``binary``.
        checkbox_group (str): Name of that group. Defaults to ``flags``.
        occluded (bool): Add the ``occluded`` group. Defaults to False.

    Returns:
        CvatLabels: Categories, groups and how each label fills them.

    Raises:
        CvatError: without label specs, or for a select/radio without
            values or a name used twice.
    """
    labels_el = labels_element(meta)
    if labels_el is None:
        raise CvatError(
            f'{where}: no <meta><project|task|job><labels>: the label specs '
            'are needed to read attributes; export with CVAT for images 1.1 '
            '(Actions -> Export task dataset / Export dataset)'
        )
    labels = _read_labels(labels_el, where)
    warnings: List[str] = []
    # label -> [(group name, kind, values, multi_label, sources)]
    candidates: Dict[str, list] = {}
    specs: Dict[str, Dict[str, CvatAttribute]] = {}
    for label, attrs in labels.items():
        specs[label] = {a.name: a for a in attrs}
        cands, flags = [], []
        for a in attrs:
            if a.input_type in CHOICE_TYPES:
                if not a.values or '' in a.values:
                    raise CvatError(
                        f'{where}: label "{label}": {a.input_type} '
                        f'attribute "{a.name}" has an empty value in '
                        f'<values> {list(a.values)}'
                    )
                cands.append((a.name, 'choice', a.values, False, (a.name,)))
            elif a.input_type == 'checkbox':
                if checkboxes == 'group':
                    flags.append(a.name)
                else:
                    cands.append(
                        (a.name, 'choice', BOOL_VALUES, False, (a.name,))
                    )
            else:
                warnings.append(
                    f'{where}: label "{label}": attribute "{a.name}" is '
                    f'of type "{a.input_type}", not a choice; it is no '
                    'attribute group and its values are not read'
                )
        if flags:
            fl = tuple(flags)
            cands.append((checkbox_group, 'flags', fl, True, fl))
        if occluded:
            if any(c[0] == OCCLUDED_GROUP for c in cands):
                raise CvatError(
                    f'{where}: label "{label}" has an attribute named '
                    f'"{OCCLUDED_GROUP}"; leave the occluded option off'
                )
            cands.append((OCCLUDED_GROUP, 'occluded', BOOL_VALUES, False, ()))
        names = [c[0] for c in cands]
        if len(set(names)) != len(names):
            raise CvatError(
                f'{where}: label "{label}": attribute names {names} repeat '
                f'(a checkbox group "{checkbox_group}" may clash with an '
                'attribute: choose another --checkbox-group name)'
            )
        candidates[label] = cands
    return _merge(labels, candidates, specs, warnings)


def _merge(
    labels: Dict[str, list],
    candidates: Dict[str, list],
    specs: Dict[str, Dict[str, CvatAttribute]],
    warnings: List[str],
) -> CvatLabels:
    """One group per attribute name, or per label where labels differ."""
    by_name: Dict[str, list] = {}
    for label, cands in candidates.items():
        for name, kind, values, multi, _ in cands:
            by_name.setdefault(name, []).append((label, values, multi))
    all_labels = list(labels)
    groups: List[dict] = []
    renamed: Dict[Tuple[str, str], str] = {}
    for name, uses in by_name.items():
        if len({(v, m) for _, v, m in uses}) == 1:
            _, values, multi = uses[0]
            group = dict(name=name, values=list(values), multi_label=multi)
            users = [label for label, _, _ in uses]
            if users != all_labels:
                group['categories'] = users
            groups.append(group)
            continue
        for label, values, multi in uses:
            renamed[(label, name)] = f'{label}.{name}'
            groups.append(
                dict(
                    name=f'{label}.{name}',
                    values=list(values),
                    multi_label=multi,
                    categories=[label],
                )
            )
    refs = {
        label: [
            GroupRef(renamed.get((label, name), name), kind, sources)
            for name, kind, _, _, sources in cands
        ]
        for label, cands in candidates.items()
    }
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(all_labels)]
    return CvatLabels(categories, groups, refs, specs, warnings)
