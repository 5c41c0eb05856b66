"""Save a checkpoint with the Runner, then resume from it and load it with
``load_from``, on CPU, under torch's weights_only loading."""

import copy

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmmultilabel.engine import SafeRunner


class ToyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs)  # (B, 2) -> (B, 1)
        if mode == 'loss':
            return dict(loss=((out - labels) ** 2).mean())
        return out


class ToyData(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        x = torch.rand(2, generator=g)
        return dict(inputs=x, labels=x.sum(0, keepdim=True))


class RecordStart(Hook):
    """Record where training starts, after any resume."""

    def before_train(self, runner):
        self.iter = runner.iter
        self.weight = runner.model.linear.weight.detach().clone()
        self.optim_state = copy.deepcopy(
            runner.optim_wrapper.optimizer.state_dict()
        )


def _runner(work_dir, max_iters, resume=False, hooks=(), load_from=None):
    return SafeRunner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(),
            sampler=dict(type='DefaultSampler'),
            batch_size=2,
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=3, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1),
        ),
        custom_hooks=list(hooks),
        resume=resume,
        load_from=load_from,
        default_scope='mmdet',
    )


def test_save_and_resume(tmp_path):
    first = _runner(tmp_path, max_iters=3)
    first.train()
    saved = first.optim_wrapper.optimizer.state_dict()['state']
    assert (tmp_path / 'iter_3.pth').is_file()

    record = RecordStart()
    second = _runner(tmp_path, max_iters=5, resume=True, hooks=[record])
    second.train()
    assert record.iter == 3
    resumed = record.optim_state['state']
    assert saved.keys() == resumed.keys()
    for key, value in saved.items():
        assert torch.equal(resumed[key]['exp_avg'], value['exp_avg'])
        assert torch.equal(resumed[key]['step'], value['step'])
    assert second.iter == 5


def test_load_from(tmp_path):
    first = _runner(tmp_path / 'a', max_iters=3)
    first.train()
    weights = first.model.linear.weight.detach().clone()

    record = RecordStart()
    second = _runner(
        tmp_path / 'b',
        max_iters=4,
        hooks=[record],
        load_from=str(tmp_path / 'a' / 'iter_3.pth'),
    )
    second.train()
    assert record.iter == 0  # load_from loads weights, not the loop state
    assert not record.optim_state['state']
    assert torch.equal(record.weight, weights)
