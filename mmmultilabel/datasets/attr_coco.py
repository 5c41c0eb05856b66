"""COCO instances with per-instance attribute groups."""

from collections import defaultdict
from typing import Any, Dict, List, Mapping, Union

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

from mmmultilabel.utils import AttributeSpec, gc_paused
from mmmultilabel.utils.errors import (
    AnnotationDefectError,
    AttributeSpecError,
    ConfigError,
)

from .formats import ann_where
from .known_fields import FEDERATED_IMAGE_FIELDS
from .loader import VALIDATE_MODES, load_attr_coco
from .transforms.formatting import AttrAlignmentError


@DATASETS.register_module()
class AttrCocoDataset(CocoDataset):
    """COCO instance data set whose instances carry attribute labels.

    Reads attribute COCO or any foreign form that
    :func:`~mmmultilabel.datasets.loader.load_attr_coco` converts, and
    validates it on load: all defects (errors) of the file are raised at
    once in an :class:`AnnotationDefectError` naming the file; warnings
    (e.g. a ``bbox`` taken from the mask, skipped annotations without a
    mask) are logged.

    ``metainfo`` holds ``classes`` (tuple of names) and ``attribute_groups``
    (list of plain dicts as :meth:`AttributeSpec.to_list`). Both are read
    from the file unless the config gives them: config classes select and
    order categories by name (others are dropped, as in
    :class:`CocoDataset`); config groups select and order groups and values
    by name (groups missing from the config are dropped; a value the config
    does not declare is a defect); config ``attribute_groups`` may also be
    the path of an annotation file whose groups are taken. With
    ``lazy_init=True`` and no config
    ``classes``/``attribute_groups`` the file is read once at construction
    to fill them.

    Each instance of a data info gets ``attr_runs``: its attribute row of
    width D = :attr:`AttributeSpec.num_label_columns` (one column per
    single-label group holding the value index, -1 unknown; one 0/1 column
    per value of a multi-label group, all -1 when unknown; with
    ``partial_attributes``, 1 for the listed values and -1 for the others)
    stored compactly as :meth:`AttributeSpec.encode_runs` triples, so that
    the data list every worker and rank holds stays as small as
    :class:`CocoDataset`'s with hundreds of attribute values;
    :class:`LoadAttrAnnotations` expands them to the (N, D) rows.
    Each data info also gets ``num_attr_columns`` (D) and the LVIS
    federated fields of its image when the file has them
    (``neg_category_ids``, ``not_exhaustive_category_ids`` and PACO's
    ``*_attrs`` versions).

    Args:
        *args: Arguments of :class:`CocoDataset`.
        validate (str): ``'auto'``: validate the file in full unless its
            text passed before (recorded in a user cache folder, see
            :mod:`~mmmultilabel.datasets.validation_cache`; its warnings
            are logged again); ``'always'``: validate in full on every
            load; ``'never'``: only the cheap checks that guard the parsing
            (a file that fails them is validated in full). Defaults to
            ``'auto'``.
        **kwargs: Arguments of :class:`CocoDataset` (``ann_file``,
            ``metainfo``, ``data_prefix``, ``filter_cfg``,
            ``serialize_data``, ``lazy_init``, ``backend_args``, ...).

    Raises:
        ConfigError: if ``validate`` is none of the above.
    """

    METAINFO: dict = dict()

    def __init__(self, *args, validate: str = 'auto', **kwargs) -> None:
        if validate not in VALIDATE_MODES:
            raise ConfigError(
                f'{type(self).__name__}: validate={validate!r}; expected '
                f'one of {VALIDATE_MODES}'
            )
        self.validate = validate
        # mmengine's default prefix key is "img_path"; CocoDataset reads "img".
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(*args, **kwargs)
        if not self._fully_initialized and not (
            'classes' in self._metainfo
            and 'attribute_groups' in self._metainfo
        ):
            data = load_attr_coco(
                self.ann_file,
                backend_args=self.backend_args,
                validate=False,
                log_warnings=False,  # logged when the data list is loaded
                attribute_groups=self._metainfo.get('attribute_groups'),
            )
            self._update_metainfo(data)

    @classmethod
    def _load_metainfo(cls, metainfo: Union[Mapping, None] = None) -> dict:
        """Merge metainfo and normalise ``classes``/``attribute_groups``.

        ``attribute_groups`` may be a list of group dicts or the path of an
        annotation file whose groups are taken.
        """
        metainfo = dict(metainfo) if metainfo is not None else {}
        groups = metainfo.pop('attribute_groups', None)
        meta = super()._load_metainfo(metainfo)
        if meta.get('classes') is not None:
            meta['classes'] = tuple(meta['classes'])
        if groups is not None:  # a path: AttributeSpec reads the file
            meta['attribute_groups'] = AttributeSpec(groups).to_list()
        return meta

    @property
    def attr_spec(self) -> AttributeSpec:
        """Attribute groups of ``metainfo`` as an :class:`AttributeSpec`."""
        return AttributeSpec(self._metainfo.get('attribute_groups'))

    def _update_metainfo(self, data: dict) -> AttributeSpec:
        """Fill classes and groups from the file unless the config set them.

        Args:
            data (dict): Canonical annotation dict.

        Returns:
            AttributeSpec: The groups of ``metainfo``.

        Raises:
            AnnotationDefectError: if config groups do not match the file.
        """
        self._metainfo.setdefault(
            'classes', tuple(c['name'] for c in data['categories'])
        )
        file_spec = AttributeSpec(data['attribute_groups'])
        if self._metainfo.get('attribute_groups') is None:
            self._metainfo['attribute_groups'] = file_spec.to_list()
            return file_spec
        spec = self.attr_spec
        problems = []
        for group in spec:
            if group.name not in file_spec.names:
                problems.append(
                    f'metainfo: attribute group "{group.name}" is not in '
                    f'the file (groups there: {file_spec.names})'
                )
            elif file_spec.group(group.name).multi_label != group.multi_label:
                problems.append(
                    f'metainfo: attribute group "{group.name}" has '
                    f'multi_label={group.multi_label} in the config but '
                    f'{not group.multi_label} in the file'
                )
            elif file_spec.group(group.name).categories != group.categories:
                problems.append(
                    f'metainfo: attribute group "{group.name}" applies to '
                    f'categories {_names(group.categories)} in the config '
                    f'but {_names(file_spec.group(group.name).categories)} '
                    'in the file; give the same "categories" (or leave '
                    "the config's attribute_groups out to take the file's)"
                )
        if problems:
            raise AnnotationDefectError(str(self.ann_file), problems)
        return spec

    # Python's cyclic collector would rescan the millions of small objects
    # a large file creates many times over (half the load time at
    # Fashionpedia's size); none of them forms a cycle, and mmengine
    # collects once after serializing the list.
    @gc_paused()
    def load_data_list(self) -> List[dict]:
        """Load, validate and parse the annotation file.

        Returns:
            list[dict]: One data info per image, instances with
            ``attr_runs``.

        Raises:
            AnnotationDefectError: listing every defect of the file.
        """
        data = load_attr_coco(
            self.ann_file,
            backend_args=self.backend_args,
            validate=self.validate,
            attribute_groups=self._metainfo.get('attribute_groups'),
        )
        self._spec = self._update_metainfo(data)

        name_to_id = {c['name']: c['id'] for c in data['categories']}
        missing = [c for c in self._metainfo['classes'] if c not in name_to_id]
        if missing:
            raise AnnotationDefectError(
                str(self.ann_file),
                [
                    f'metainfo: classes {missing} are not categories of the '
                    f'file (categories there: {list(name_to_id)})'
                ],
            )
        self.cat_ids = [name_to_id[c] for c in self._metainfo['classes']]
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}

        anns_of_img: Dict[Any, List[dict]] = defaultdict(list)
        self.cat_img_map: Dict[Any, List[Any]] = defaultdict(list)
        for ann in data['annotations']:
            anns_of_img[ann['image_id']].append(ann)
            self.cat_img_map[ann['category_id']].append(ann['image_id'])

        self._defects: List[str] = []
        data_list = []
        for img in data['images']:
            data_list.append(
                self.parse_data_info(
                    dict(
                        raw_img_info=dict(img, img_id=img['id']),
                        raw_ann_info=anns_of_img[img['id']],
                    )
                )
            )
        if self._defects:
            raise AnnotationDefectError(str(self.ann_file), self._defects)
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Parse one image as :class:`CocoDataset`, adding attribute rows.

        Each annotation goes through :meth:`CocoDataset.parse_data_info`
        alone, so that exactly the instances it keeps get their rows.

        Args:
            raw_data_info (dict): ``raw_img_info`` and ``raw_ann_info``.

        Returns:
            dict: Data info whose instances have ``attr_runs``.
        """
        img_info = raw_data_info['raw_img_info']
        anns = raw_data_info['raw_ann_info']
        data_info = super().parse_data_info(
            dict(raw_img_info=img_info, raw_ann_info=anns)
        )
        # CocoDataset makes one instance of an annotation or drops it: with
        # as many instances as annotations, each is its annotation's.
        if len(data_info['instances']) == len(anns):
            pairs = list(zip(anns, data_info['instances']))
        else:  # some dropped: which, CocoDataset says one by one
            pairs = []
            for ann in anns:
                kept = super().parse_data_info(
                    dict(raw_img_info=img_info, raw_ann_info=[ann])
                )['instances']
                pairs.extend((ann, instance) for instance in kept)
            data_info['instances'] = [instance for _, instance in pairs]
        for ann, instance in pairs:
            instance['attr_runs'] = self._encode(ann)
        data_info['num_attr_columns'] = self._spec.num_label_columns
        for key in FEDERATED_IMAGE_FIELDS:
            if key in img_info:
                data_info[key] = img_info[key]
        return data_info

    def _encode(self, ann: dict) -> tuple:
        """Compact attribute row of one annotation (see
        :meth:`AttributeSpec.encode_runs`); groups outside the spec drop.

        A group of ``partial_attributes`` (unknown in ``attributes``) gets
        1 in the columns of its listed values and keeps -1 in the others.
        """
        names = self._spec.label_slices
        attributes = ann.get('attributes') or {}
        if not names.keys() >= attributes.keys():  # groups of the file only
            attributes = {k: v for k, v in attributes.items() if k in names}
        partial = ann.get('partial_attributes')
        if partial:
            partial = {
                k: v
                for k, v in partial.items()
                if k in names and k not in attributes
            }
        try:
            return self._spec.encode_runs(attributes, partial)
        except AttributeSpecError as err:
            self._defects.append(
                f'{ann_where(ann)}: field "attributes" does not fit '
                f'metainfo["attribute_groups"] of the config: {err}'
            )
            return (0, self._spec.num_label_columns, -1)

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline; name the transforms if attributes misalign."""
        try:
            return super().prepare_data(idx)
        except AttrAlignmentError as err:
            chain = ' -> '.join(
                type(t).__name__ for t in self.pipeline.transforms
            )
            raise AttrAlignmentError(
                f'{err}\nPipeline of {type(self).__name__}: {chain}'
            ) from err


def _names(categories) -> str:
    """A group's ``categories`` for a message."""
    return 'all' if categories is None else str(list(categories))
