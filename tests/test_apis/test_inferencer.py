"""AttrInferencer on a tiny randomly initialised attribute Mask2Former."""

import json
import math
import os.path as osp

import mmcv
import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch
from attr_infer_utils import ATTRIBUTE_GROUPS, CLASSES, save_checkpoint
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmmultilabel.apis import AttrInferencer, UnreadableImageError
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)


def enlarged_shape(img):
    """Shape of a drawing of ``img``: small images are drawn enlarged."""
    factor = max(1, math.ceil(512 / min(img.shape[:2])))
    return (factor * img.shape[0], factor * img.shape[1], 3)


def _inferencer(cfg_path, ckpt_path, **kwargs):
    return AttrInferencer(
        cfg_path, ckpt_path, device='cpu', show_progress=False, **kwargs
    )


def _check_record(record, height, width):
    assert set(record) == {'image', 'height', 'width', 'instances'}
    assert (record['height'], record['width']) == (height, width)
    for inst in record['instances']:
        assert set(inst) == {
            'category',
            'category_id',
            'score',
            'bbox',
            'mask',
            'attributes',
        }
        assert inst['category'] == CLASSES[inst['category_id']]
        assert 0.0 <= inst['score'] <= 1.0
        assert len(inst['bbox']) == 4
        mask = mask_util.decode(
            dict(size=inst['mask']['size'], counts=inst['mask']['counts'])
        )
        assert mask.shape == (height, width)
        assert list(inst['attributes']) == SPEC.names
        for group in SPEC:
            attr = inst['attributes'][group.name]
            assert set(attr) == {'value', 'score'}
            if attr['value'] is None:
                assert attr['score'] is None
            elif group.multi_label:
                assert set(attr['value']) <= set(group.values)
                assert len(attr['score']) == len(attr['value'])
            else:
                assert attr['value'] in group.values
                assert 0.0 <= attr['score'] <= 1.0


def test_folder_schema_files_and_json_round_trip(attr_files, images_dir):
    inferencer = _inferencer(*attr_files)
    out_dir = images_dir / 'out'
    result = inferencer(
        str(images_dir),
        score_thr=0.0,
        out_dir=str(out_dir),
        no_save_pred=False,
        batch_size=2,
    )
    records = result['predictions']
    assert result['failed'] == []
    assert len(result['visualization']) == 3  # drawn, as mmdet returns
    assert [osp.basename(r['image']) for r in records] == [
        'img0.png',
        'img1.png',
        'img2.png',
    ]
    for i, record in enumerate(records):
        img = mmcv.imread(record['image'])
        _check_record(record, *img.shape[:2])
        assert record['instances'], 'score_thr=0 keeps every instance'
        with open(out_dir / 'preds' / f'img{i}.json') as f:
            assert json.load(f) == record
        drawn = mmcv.imread(str(out_dir / 'vis' / f'img{i}.png'))
        assert drawn.shape == enlarged_shape(img)  # the prediction only


def test_array_list_and_datasamples(attr_files, images_dir):
    inferencer = _inferencer(*attr_files)
    path = str(images_dir / 'img1.png')
    img = mmcv.imread(path)  # BGR, as the file loader gives
    by_path, by_array = inferencer([path, img], score_thr=0.0)['predictions']
    assert by_path['image'] == path and by_array['image'] is None
    assert by_path['instances'] == by_array['instances']

    result = inferencer(
        img, score_thr=0.0, return_datasamples=True, return_vis=True
    )
    (sample,) = result['predictions']
    assert isinstance(sample, DetDataSample)
    pred = sample.pred_instances
    # RLE of the record == mask of the data sample.
    for inst, mask in zip(by_array['instances'], pred.masks):
        rle = dict(size=inst['mask']['size'], counts=inst['mask']['counts'])
        np.testing.assert_array_equal(mask_util.decode(rle), mask.numpy())
    assert pred.attr_labels.shape == (len(pred), SPEC.num_label_columns)
    assert pred.attr_scores.shape == (len(pred), SPEC.num_values)
    assert result['visualization'][0].shape == enlarged_shape(img)


def test_score_threshold_drops_instances(attr_files, images_dir):
    inferencer = _inferencer(*attr_files)
    path = str(images_dir / 'img0.png')
    (all_insts,) = inferencer(path, score_thr=0.0)['predictions']
    scores = sorted(i['score'] for i in all_insts['instances'])
    thr = scores[len(scores) // 2]
    (kept,) = inferencer(path, score_thr=thr)['predictions']
    assert [i['score'] for i in kept['instances']] == [
        i['score'] for i in all_insts['instances'] if i['score'] >= thr
    ]
    assert 0 < len(kept['instances']) < len(all_insts['instances'])


def _instances(attr_labels, attr_scores, scores=None):
    n = len(attr_labels)
    return InstanceData(
        labels=torch.zeros(n, dtype=torch.long),
        scores=torch.tensor(scores or [0.9] * n),
        bboxes=torch.tensor([[0.0, 0.0, 4.0, 4.0]] * n),
        masks=torch.ones(n, 5, 5, dtype=torch.bool),
        attr_labels=torch.tensor(attr_labels),
        attr_scores=torch.tensor(attr_scores),
    )


def test_attribute_thresholds_mark_unknown(attr_files):
    inferencer = _inferencer(*attr_files)
    # Columns: color | size | pattern(striped, dotted).
    insts = _instances(
        attr_labels=[[0, 1, 1, 0], [2, 0, 0, 1], [-1, 1, 1, 1]],
        attr_scores=[
            # color (r, g, b) | size (s, l) | pattern (st, do)
            [0.80, 0.1, 0.0, 0.30, 0.60, 0.95, 0.02],
            [0.10, 0.1, 0.55, 0.70, 0.20, 0.40, 0.90],
            [0.40, 0.3, 0.20, 0.10, 0.85, 0.99, 0.97],
        ],
    )
    out = inferencer.apply_thresholds(insts, 0.0, inferencer._group_thrs(0.7))
    assert out.attr_labels.tolist() == [
        [0, -1, 1, 0],  # size 0.60 < 0.7: unknown
        [-1, 0, -1, -1],  # color 0.55 < 0.7; pattern 0.40 is unsure
        [-1, 1, 1, 1],  # color stays unknown (the model said so)
    ]
    assert insts.attr_labels[0, 1] == 1, 'the input is not modified'
    # Per group; thr <= 0.5 never makes a multi-label group unknown.
    out = inferencer.apply_thresholds(
        insts, 0.0, inferencer._group_thrs(dict(size=0.65, pattern=0.5))
    )
    assert out.attr_labels.tolist() == [
        [0, -1, 1, 0],
        [2, 0, 0, 1],
        [-1, 1, 1, 1],
    ]
    sample = DetDataSample(metainfo=dict(ori_shape=(5, 5)))
    sample.pred_instances = out
    record = inferencer.pred2dict(sample)
    attrs = [inst['attributes'] for inst in record['instances']]
    assert attrs[0] == {
        'color': {'value': 'red', 'score': pytest.approx(0.8)},
        'size': {'value': None, 'score': None},
        'pattern': {'value': ['striped'], 'score': [pytest.approx(0.95)]},
    }
    assert attrs[1]['pattern'] == {
        'value': ['dotted'],
        'score': [pytest.approx(0.9)],
    }
    assert attrs[2]['color'] == {'value': None, 'score': None}


def test_thresholds_validated_and_stock_predictions(attr_files):
    inferencer = _inferencer(*attr_files)
    with pytest.raises(ValueError, match=r"undeclared.*\['shape'\]"):
        inferencer._group_thrs(dict(shape=0.5))
    with pytest.raises(ValueError, match='"color" is 1.5'):
        AttrInferencer(*attr_files, attr_thr=dict(color=1.5))
    # A prediction without attribute fields (stock mmdet model).
    insts = _instances([[0, 0, 0, 0]] * 2, [[0.5] * 7] * 2, [0.2, 0.6])
    del insts.attr_labels, insts.attr_scores
    out = inferencer.apply_thresholds(insts, 0.3, inferencer._group_thrs(0.9))
    sample = DetDataSample(metainfo=dict(ori_shape=(5, 5)))
    sample.pred_instances = out
    (inst,) = inferencer.pred2dict(sample)['instances']
    assert inst['score'] == pytest.approx(0.6) and inst['attributes'] == {}


def test_folder_with_unreadable_images(attr_files, images_dir):
    (images_dir / 'corrupt.jpg').write_bytes(b'\xff\xd8 not a jpeg')
    (images_dir / 'empty.png').write_bytes(b'')
    (images_dir / 'notes.txt').write_text('not an image: ignored')
    inferencer = _inferencer(*attr_files)
    with pytest.raises(UnreadableImageError, match='corrupt.jpg'):
        inferencer(str(images_dir))
    result = inferencer(
        str(images_dir),
        score_thr=0.0,
        skip_unreadable=True,
        out_dir=str(images_dir / 'out'),
        no_save_pred=False,
    )
    assert [osp.basename(r['image']) for r in result['predictions']] == [
        'img0.png',
        'img1.png',
        'img2.png',
    ]
    failed = {osp.basename(f['input']): f['error'] for f in result['failed']}
    assert set(failed) == {'corrupt.jpg', 'empty.png'}
    assert 'corrupt.jpg' in failed['corrupt.jpg']
    out = images_dir / 'out'
    assert sorted(p.name for p in (out / 'preds').iterdir()) == [
        f'img{i}.json' for i in range(3)
    ]
    assert sorted(p.name for p in (out / 'vis').iterdir()) == [
        f'img{i}.png' for i in range(3)
    ]


def test_cuda_checkpoint_loads_on_cpu(
    attr_files, mask2former_cfg, tmp_path, monkeypatch
):
    """A checkpoint whose storages are tagged ``cuda:0``, as a GPU run
    saves them, loads on this CPU-only machine."""
    if torch.cuda.is_available():
        pytest.skip('needs a machine without CUDA')
    cfg_path, _ = attr_files
    model = MODELS.build(Config.fromfile(cfg_path).model)
    ckpt = str(tmp_path / 'gpu.pth')
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, 'location_tag', lambda s: 'cuda:0')
        save_checkpoint(model, ckpt)
    with pytest.raises(RuntimeError, match='CUDA'):
        torch.load(ckpt, weights_only=False)

    inferencer = _inferencer(cfg_path, ckpt)
    loaded = inferencer.model.state_dict()
    for key, value in model.state_dict().items():
        assert loaded[key].device.type == 'cpu'
        torch.testing.assert_close(loaded[key], value)


def test_dataset_meta_and_weights_checked(attr_files, tmp_path):
    cfg_path, ckpt_path = attr_files
    state = torch.load(ckpt_path, weights_only=False)['state_dict']
    bare = str(tmp_path / 'bare.pth')
    torch.save(dict(state_dict=state), bare)
    # Classes from the config's test data set, groups from the model.
    meta = _inferencer(cfg_path, bare).model.dataset_meta
    assert meta['classes'] == CLASSES
    assert AttributeSpec(meta['attribute_groups']) == SPEC

    # Weights of another model (no attribute classifiers) are refused.
    stock = {k: v for k, v in state.items() if 'attr_embed' not in k}
    torch.save(dict(state_dict=stock), bare)
    with pytest.raises(ValueError, match='does not fit the model'):
        _inferencer(cfg_path, bare)

    torch.save(dict(state_dict=state), bare)
    # Weights of other mask inputs: the file and the settings that fit.
    cfg = Config.fromfile(cfg_path)
    head = cfg.model.panoptic_head
    head.attr_mask_stats = not head.get('attr_mask_stats', False)
    with pytest.raises(ValueError, match=r'bare\.pth: The checkpoint'):
        _inferencer(cfg, bare)

    cfg = Config.fromfile(cfg_path)
    cfg.test_dataloader.dataset.metainfo = dict(
        classes=CLASSES, attribute_groups=ATTRIBUTE_GROUPS[:2]
    )
    with pytest.raises(ValueError, match='attribute groups of the data set'):
        _inferencer(cfg, bare)
