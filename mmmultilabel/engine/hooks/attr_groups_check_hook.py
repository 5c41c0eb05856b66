"""Check that the model and the data set agree on the attribute groups."""

from mmdet.engine.hooks import NumClassCheckHook
from mmdet.registry import HOOKS
from mmengine.runner import Runner

from mmmultilabel.utils import AttributeSpec


@HOOKS.register_module()
class AttrGroupsCheckHook(NumClassCheckHook):
    """mmdet's ``NumClassCheckHook`` that also compares attribute groups.

    Before each training and validation epoch, every module of the model
    that has an ``attr_spec`` (the attribute head, the fusion head) must
    declare exactly the groups, values and kinds of the data set's
    ``metainfo['attribute_groups']``: same width is not enough, because
    reordered values would train and evaluate silently wrong.
    """

    def _check_head(self, runner: Runner, mode: str) -> None:
        super()._check_head(runner, mode)
        loader = (
            runner.train_dataloader
            if mode == 'train'
            else runner.val_dataloader
        )
        dataset = loader.dataset
        groups = dataset.metainfo.get('attribute_groups')
        if groups is None:
            return
        data_spec = AttributeSpec(groups)
        for name, module in runner.model.named_modules():
            spec = getattr(module, 'attr_spec', None)
            if isinstance(spec, AttributeSpec) and spec != data_spec:
                raise ValueError(
                    f'the attribute groups of {type(module).__name__} '
                    f'({name}) differ from those of the {mode} data set '
                    f'{type(dataset).__name__}:\n  model: {spec.to_list()}'
                    f'\n  data:  {data_spec.to_list()}\nGive both the same '
                    'attribute_groups in the config (the model outputs '
                    'follow their order).'
                )
