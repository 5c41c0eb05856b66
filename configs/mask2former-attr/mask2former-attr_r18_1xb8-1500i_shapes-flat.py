# The CPU shapes config on flat-coloured shapes (colour and size only, no
# patterns), a second small set for ablations:
#   python tools/dataset_converters/make_shapes.py data/shapes-flat --flat
_base_ = './mask2former-attr_r18_1xb8-1500i_shapes.py'

data_root = 'data/shapes-flat/'
attribute_groups = [
    dict(name='color', values=['red', 'green', 'blue', 'yellow']),
    dict(name='size', values=['small', 'medium', 'large']),
]
metainfo = dict(
    classes=('circle', 'square', 'triangle'), attribute_groups=attribute_groups
)
model = dict(
    panoptic_head=dict(attribute_groups=attribute_groups),
    panoptic_fusion_head=dict(attribute_groups=attribute_groups),
)
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
