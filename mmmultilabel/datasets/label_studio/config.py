"""Label Studio's labelling config: read the parts that make attribute COCO,
and write one for predictions.

The config is the XML of the project's *Settings -> Labeling Interface ->
Code*. What is read:

* the ``<Image name=.. value="$key">`` tag: the task data key of the image;
* the region tags ``<PolygonLabels>``, ``<BrushLabels>`` and
  ``<RectangleLabels>`` (each ``name``/``toName``) and their ``<Label
  value=..>`` children: the categories, in order of appearance;
* every ``<Choices perRegion="true">``: an attribute group named by its
  ``name``, its values the ``<Choice value=..>`` children (results name a
  choice by its ``alias`` when it has one), multi-label when
  ``choice="multiple"``. ``visibleWhen="region-selected"`` with
  ``whenLabelValue="a,b"`` limits the group to those labels: the group
  gets ``"categories": ["a", "b"]``.

``<Choices>`` without ``perRegion`` classify the whole task: their results
are skipped (and counted) by the reader.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence
from xml.sax.saxutils import quoteattr

from mmmultilabel.utils import ConfigError

#: Region tags read as instances -> their result ``type``.
REGION_TAGS = {
    'PolygonLabels': 'polygonlabels',
    'BrushLabels': 'brushlabels',
    'RectangleLabels': 'rectanglelabels',
}
#: ``choice`` attribute values of a multi-label ``<Choices>``.
MULTIPLE = ('multiple',)
#: The written config's ``<Image>`` name (also the task data key of the
#: image) and region tag name, which the written tasks refer to.
IMAGE_NAME, LABELS_NAME = 'image', 'label'


@dataclass
class LabelConfig:
    """What a labelling config declares for attribute COCO.

    Attributes:
        data_key (str, optional): Task data key of the image (``value`` of
            ``<Image>`` without ``$``).
        categories (list[str]): Label values of the region tags, in order.
        groups (list[dict]): Per-region ``<Choices>`` as attribute groups
            ``{name, values, multi_label[, categories]}``.
        task_choices (list[str]): Names of ``<Choices>`` without
            ``perRegion`` (task-level classifications).
        aliases (dict[str, dict[str, str]]): Per group, ``alias -> value``.
        region_tags (dict[str, str]): Region tag ``name`` -> result type.
    """

    data_key: Optional[str] = None
    categories: List[str] = field(default_factory=list)
    groups: List[dict] = field(default_factory=list)
    task_choices: List[str] = field(default_factory=list)
    aliases: Dict[str, Dict[str, str]] = field(default_factory=dict)
    region_tags: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_string(cls, text: str, path: str = '<config>') -> 'LabelConfig':
        """Parse the XML of a labelling config.

        Raises:
            ConfigError: for XML that does not parse, a ``<Choices>``
                without name or choices, or ``whenLabelValue`` naming an
                undeclared label; the message names ``path``.
        """
        try:
            root = ET.fromstring(text)
        except ET.ParseError as err:
            line, col = err.position
            raise ConfigError(
                f'{path}:{line}:{col + 1}: the labelling config is not valid '
                f'XML ({err.msg}); copy it from Settings -> Labeling '
                'Interface -> Code'
            ) from None
        out = cls()
        for node in root.iter():
            if node.tag == 'Image' and out.data_key is None:
                out.data_key = node.get('value', '').lstrip('$') or None
            elif node.tag in REGION_TAGS:
                out.region_tags[node.get('name', '')] = REGION_TAGS[node.tag]
                for label in node.iter('Label'):
                    value = label.get('value')
                    if value and value not in out.categories:
                        out.categories.append(value)
        for node in root.iter('Choices'):
            out._add_choices(node, path)
        return out

    @classmethod
    def from_file(cls, path: str) -> 'LabelConfig':
        """Read and parse a labelling config file (see
        :meth:`from_string`)."""
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        except OSError as err:
            raise ConfigError(
                f'{path}: cannot read the labelling config ({err})'
            ) from None
        return cls.from_string(text, path)

    def _add_choices(self, node: ET.Element, path: str) -> None:
        name = node.get('name')
        if not name:
            raise ConfigError(
                f'{path}: a <Choices> tag has no "name"; give each one a '
                'name (it names the attribute group)'
            )
        if node.get('perRegion', '').lower() != 'true':
            self.task_choices.append(name)
            return
        values, aliases = [], {}
        for choice in node.iter('Choice'):
            value = choice.get('value')
            if value:
                values.append(value)
                aliases[choice.get('alias') or value] = value
        if not values:
            raise ConfigError(
                f'{path}: <Choices name="{name}"> has no <Choice value=..>'
            )
        group = dict(
            name=name,
            values=values,
            multi_label=node.get('choice', 'single') in MULTIPLE,
        )
        when = node.get('whenLabelValue')
        if node.get('visibleWhen') == 'region-selected' and when:
            labels = [v.strip() for v in when.split(',') if v.strip()]
            unknown = [v for v in labels if v not in self.categories]
            if unknown:
                raise ConfigError(
                    f'{path}: <Choices name="{name}"> whenLabelValue names '
                    f'labels {unknown} that no region tag declares '
                    f'(declared: {self.categories})'
                )
            group['categories'] = labels
        self.groups.append(group)
        self.aliases[name] = aliases


def _attrs(**kwargs: str) -> str:
    """`` key="value"`` pairs of an XML tag, quoted."""
    return ''.join(f' {k}={quoteattr(str(v))}' for k, v in kwargs.items())


def write_label_config(
    categories: Sequence[str],
    groups: Sequence[dict],
    region_type: str = 'brushlabels',
) -> str:
    """The labelling config XML of a project for these predictions.

    Args:
        categories (Sequence[str]): Class names.
        groups (Sequence[dict]): Attribute groups ``{name, values,
            multi_label[, categories]}``; each becomes a per-region
            ``<Choices>``, limited to its ``categories`` when given.
        region_type (str): ``'brushlabels'`` or ``'polygonlabels'``.

    Returns:
        str: The XML text.
    """
    tag = {v: k for k, v in REGION_TAGS.items()}[region_type]
    lines = [
        '<View>',
        f'  <Image{_attrs(name=IMAGE_NAME, value="$" + IMAGE_NAME)}'
        ' zoom="true"/>',
        f'  <{tag}{_attrs(name=LABELS_NAME, toName=IMAGE_NAME)}>',
    ]
    lines += [f'    <Label{_attrs(value=c)}/>' for c in categories]
    lines.append(f'  </{tag}>')
    for g in groups:
        when = (
            dict(whenLabelValue=','.join(g['categories']))
            if g.get('categories')
            else {}
        )
        choice = 'multiple' if g.get('multi_label') else 'single'
        lines.append(
            f'  <Choices{_attrs(name=g["name"], toName=IMAGE_NAME)}'
            f'{_attrs(perRegion="true", choice=choice)}'
            f'{_attrs(visibleWhen="region-selected", **when)}>'
        )
        lines += [f'    <Choice{_attrs(value=v)}/>' for v in g['values']]
        lines.append('  </Choices>')
    lines.append('</View>')
    return '\n'.join(lines) + '\n'
