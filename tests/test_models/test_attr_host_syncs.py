"""The attribute head adds no host synchronisation to a training step.

Counted by ``host_sync_utils`` against stock Mask2Former (mmdet's shrunk
config, the same batch): the attribute head, costs and losses run on the
device; only the check of the labels, once per batch, reads them on the host
(``check_attr_labels``).
"""

import copy

import pytest
import torch
from attr_model_utils import ATTRIBUTE_GROUPS, to_attr_model
from host_sync_utils import count_step_syncs
from mmdet.registry import MODELS


def step_syncs(model_cfg, batch):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return count_step_syncs(model, data)


@pytest.fixture
def counts(mask2former_cfg, make_batch):
    batch = make_batch(num_gts=(2, 3), sizes=((45, 37), (37, 45)))
    stock = copy.deepcopy(mask2former_cfg.model)
    assert stock.panoptic_head.type == 'Mask2FormerHead'
    attr = to_attr_model(copy.deepcopy(stock), ATTRIBUTE_GROUPS)
    unchecked = copy.deepcopy(attr)
    unchecked.panoptic_head.check_attr_labels = False
    return {
        'stock': step_syncs(stock, batch),
        'attr': step_syncs(attr, batch),
        'attr_unchecked': step_syncs(unchecked, batch),
    }


def test_no_host_sync_beyond_stock_mask2former(counts):
    for name, counter in counts.items():
        print(f'{name}: {counter.total} host syncs {dict(counter.counts)}')
    stock, attr = counts['stock'], counts['attr_unchecked']
    assert attr.total > 0
    assert attr.counts == stock.counts
    # the label check reads one value per batch
    checked = counts['attr'].counts
    assert checked - attr.counts == {'_local_scalar_dense': 1}
