# The CPU shapes config on the held-out 'longtail' family of
# tools/dataset_converters/make_shapes.py (`make families` writes it to
# data/families/longtail). Only the data and its attribute groups differ from
# ../mask2former-attr_r18_1xb8-1500i_shapes.py; docs/model.md compares the
# defaults with stock mmdet on every family.
_base_ = '../mask2former-attr_r18_1xb8-1500i_shapes.py'

data_root = 'data/families/longtail/'
classes = ('circle', 'square', 'triangle')
attribute_groups = [
    dict(
        name='color',
        values=[
            'red',
            'green',
            'blue',
            'yellow',
            'purple',
            'orange',
            'cyan',
            'brown',
        ],
    ),
    dict(
        name='pattern',
        values=['striped', 'dotted', 'checkered', 'hatched', 'outlined'],
        multi_label=True,
    ),
]
metainfo = dict(classes=classes, attribute_groups=attribute_groups)
model = dict(
    panoptic_head=dict(
        num_things_classes=len(classes),
        attribute_groups=attribute_groups,
        loss_cls=dict(class_weight=[1.0] * len(classes) + [0.1]),
    ),
    panoptic_fusion_head=dict(
        num_things_classes=len(classes), attribute_groups=attribute_groups
    ),
)
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
