"""A file is validated in full once; later loads of the same text are not."""

import copy
import json
import os
import os.path as osp

import pytest
from attr_data_utils import DATA, dataset_cfg
from mmdet.registry import DATASETS

from mmmultilabel.datasets import (
    AnnotationDefectError,
    load_attr_coco,
    loader,
    to_canonical,
    validation_cache,
)
from mmmultilabel.datasets.validation import is_parsable
from mmmultilabel.utils import ConfigError

FASHIONPEDIA = osp.join(DATA, 'formats', 'fashionpedia.json')


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test; counts the full validations."""
    folder = tmp_path / 'cache'
    monkeypatch.setenv(validation_cache.CACHE_DIR_ENV, str(folder))
    calls = []
    check = loader.check_attr_coco

    def counted(*args, **kwargs):
        calls.append(1)
        return check(*args, **kwargs)

    monkeypatch.setattr(loader, 'check_attr_coco', counted)
    return calls


def copy_file(src, dst, edit=None):
    """``src`` written to ``dst``, after ``edit(data)`` if given."""
    with open(src) as f:
        data = json.load(f)
    if edit is not None:
        edit(data)
    with open(dst, 'w') as f:
        json.dump(data, f)
    return str(dst)


def data_list(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def build(data, **kwargs):
    return DATASETS.build(dataset_cfg(data, [], **kwargs))


def test_cached_load_skips_the_validation_and_gives_the_same_data(
    five_instances, cache
):
    always = build(five_instances, validate='always')
    assert len(cache) == 1
    first = build(five_instances)  # 'auto', nothing recorded yet
    assert len(cache) == 2
    cached = build(five_instances)
    assert len(cache) == 2  # recorded: not validated again
    never = build(five_instances, validate='never')
    assert len(cache) == 2
    expected = data_list(always)
    assert len(expected) == 2
    for dataset in (first, cached, never):
        assert dataset.metainfo == always.metainfo
        assert data_list(dataset) == expected


@pytest.mark.parametrize('filter_cfg', [None, dict(filter_empty_gt=True)])
def test_fashionpedia_form_same_data_when_cached(tmp_path, cache, filter_cfg):
    data = dict(ann_file=FASHIONPEDIA, img_dir=str(tmp_path))
    always = build(data, validate='always', filter_cfg=filter_cfg)
    build(data, filter_cfg=filter_cfg)
    cached = build(data, filter_cfg=filter_cfg)
    assert len(cache) == 2
    assert len(always) > 0
    assert data_list(cached) == data_list(always)


def test_bad_file_fails_the_same_way_on_every_load(
    five_instances, cache, tmp_path
):
    def edit(data):
        data['annotations'][0]['attributes']['color'] = 'purple'

    bad = dict(
        five_instances,
        ann_file=copy_file(five_instances['ann_file'], tmp_path / 'b', edit),
    )
    messages = []
    for _ in range(2):
        with pytest.raises(AnnotationDefectError) as info:
            build(bad)
        messages.append(str(info.value))
    with pytest.raises(AnnotationDefectError) as info:
        build(bad, validate='always')
    assert messages == [str(info.value)] * 2
    assert "undeclared value 'purple'" in messages[0]
    assert len(cache) == 3  # a bad file is never recorded


def test_edited_file_is_validated_again(five_instances, cache, tmp_path):
    path = tmp_path / 'ann.json'
    data = dict(
        five_instances, ann_file=copy_file(five_instances['ann_file'], path)
    )
    build(data)
    build(data)
    assert len(cache) == 1

    def edit(ann):
        ann['annotations'][1]['bbox'] = [1, 2, 0, 5]

    copy_file(five_instances['ann_file'], path, edit)
    with pytest.raises(AnnotationDefectError, match='degenerate box'):
        build(data)
    assert len(cache) == 2


def test_changed_validator_version_validates_again(
    five_instances, cache, monkeypatch
):
    build(five_instances)
    monkeypatch.setattr(
        validation_cache,
        'VALIDATOR_VERSION',
        validation_cache.VALIDATOR_VERSION + 1,
    )
    build(five_instances)
    build(five_instances)
    assert len(cache) == 2


def test_config_groups_are_part_of_the_key(five_instances, cache):
    path = five_instances['ann_file']
    other = [dict(name='size', values=['s', 'l'], multi_label=False)]
    for groups in (None, other, None, other):
        load_attr_coco(path, validate='auto', attribute_groups=groups)
    assert len(cache) == 2  # once per set of groups


def _with_warnings(data):
    """An unknown field (a reader's warning) and a federated field naming
    an unknown category (a validator's warning)."""
    data['annotations'][0]['note'] = 'x'
    data['images'][0]['neg_category_ids'] = [999]


def test_warnings_repeat_on_a_cached_load(five_instances, cache, tmp_path):
    path = copy_file(
        five_instances['ann_file'], tmp_path / 'w.json', _with_warnings
    )
    expected = []
    load_attr_coco(path, validate='always', warnings=expected)
    assert len(expected) == 2
    assert any('"annotations[].note"' in w for w in expected)
    assert any('"images[].neg_category_ids"' in w for w in expected)
    for _ in range(2):
        found = []
        load_attr_coco(path, validate='auto', warnings=found)
        assert found == expected
    assert len(cache) == 2  # 'always', then the first 'auto'


def test_dataset_logs_the_recorded_warnings(
    five_instances, cache, tmp_path, monkeypatch
):
    path = copy_file(
        five_instances['ann_file'], tmp_path / 'w.json', _with_warnings
    )
    logged = []
    monkeypatch.setattr(
        loader, 'print_log', lambda msg, **kwargs: logged.append(msg)
    )
    data = dict(five_instances, ann_file=path)
    build(data)
    first = list(logged)
    build(data)
    assert len(cache) == 1
    assert len(first) == 2 and all(m.startswith(path) for m in first)
    assert logged == first * 2


def test_unwritable_cache_folder_validates_and_warns_once(
    five_instances, cache, tmp_path, monkeypatch
):
    blocker = tmp_path / 'file'
    blocker.write_text('')  # a folder below a file cannot be made
    monkeypatch.setenv(validation_cache.CACHE_DIR_ENV, str(blocker / 'c'))
    monkeypatch.setattr(validation_cache, '_warned_unwritable', False)
    logged = []
    monkeypatch.setattr(
        validation_cache,
        'print_log',
        lambda msg, **kwargs: logged.append(msg),
    )
    expected = data_list(build(five_instances, validate='always'))
    for _ in range(2):
        assert data_list(build(five_instances)) == expected
    assert len(cache) == 3
    assert len(logged) == 1
    assert str(blocker / 'c') in logged[0]
    assert validation_cache.CACHE_DIR_ENV in logged[0]


def test_record_leaves_one_complete_entry(cache):
    key = 'k' * 64
    for n in range(3):  # rewrites replace the entry
        validation_cache.record(key, 'a.json', [f'w{n}'])
    folder = validation_cache.cache_dir()
    assert os.listdir(folder) == [f'{key}.json']
    assert validation_cache.lookup(key) == ['w2']
    with open(osp.join(folder, f'{key}.json'), 'w') as f:
        f.write('{"key": ')  # a truncated entry is not recorded
    assert validation_cache.lookup(key) is None


def test_cache_folder_default(monkeypatch, tmp_path):
    monkeypatch.delenv(validation_cache.CACHE_DIR_ENV)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert validation_cache.cache_dir() == str(
        tmp_path / 'mmmultilabel' / 'validated'
    )
    monkeypatch.delenv('XDG_CACHE_HOME')
    monkeypatch.setenv('HOME', str(tmp_path))
    assert validation_cache.cache_dir() == str(
        tmp_path / '.cache' / 'mmmultilabel' / 'validated'
    )


def test_never_still_names_the_defect_that_would_crash(
    five_instances, cache, tmp_path
):
    def edit(data):
        data['annotations'][0]['image_id'] = 77

    bad = dict(
        five_instances,
        ann_file=copy_file(five_instances['ann_file'], tmp_path / 'b', edit),
    )
    with pytest.raises(AnnotationDefectError, match='image id 77 is not in'):
        build(bad, validate='never')


def test_validate_must_be_a_mode(five_instances):
    with pytest.raises(ConfigError, match="validate='sometimes'"):
        build(five_instances, validate='sometimes')
    with pytest.raises(ConfigError, match="validate='sometimes'"):
        load_attr_coco(five_instances['ann_file'], validate='sometimes')


def _canonical(path):
    with open(path) as f:
        return to_canonical(json.load(f))


@pytest.mark.parametrize(
    'edit',
    [
        lambda d: d['images'].append(dict(d['images'][0])),  # duplicate id
        lambda d: d['images'][0].update(id='1'),
        lambda d: d['images'][0].pop('file_name'),
        lambda d: d['images'][0].update(height=30.5),
        lambda d: d['categories'][0].update(name=None),
        lambda d: d['annotations'][0].update(image_id=999),
        lambda d: d['annotations'][0].update(category_id=999),
        lambda d: d['annotations'][0].update(bbox=[1, 2, 3]),
        lambda d: d['annotations'][0].update(bbox=[1, 2, 3, '4']),
        lambda d: d['annotations'][0].update(bbox=None),
        lambda d: d['annotations'][0].pop('area'),
        lambda d: d['annotations'][0].update(attributes=['red']),
        lambda d: d['annotations'][0].update(partial_attributes=3),
        lambda d: d['annotations'].append([]),
        lambda d: d.update(categories={}),
        lambda d: d['images'][0].update(id=[1]),  # not hashable
    ],
)
def test_is_parsable_fails_on_what_the_parser_trips_on(five_instances, edit):
    data = _canonical(five_instances['ann_file'])
    assert is_parsable(data)
    broken = copy.deepcopy(data)
    edit(broken)
    assert not is_parsable(broken)
