# Attribute Mask2Former on Fashionpedia data: 46 garment and part
# categories (ids 0..45), attributes given as `attribute_ids` per annotation
# and grouped by their `supercategory` (each group multi-label). The groups
# and their values are read from the training annotations, so the config
# does not repeat the 294 attribute names. In the official files every
# annotation carries `attribute_ids`, garment parts too (e.g. a sleeve's
# length, a neckline's type), an empty list when none applies: every group
# is known, and an attribute not listed is absent (a negative), as
# Fashionpedia's evaluation counts it. The annotations have masks but no
# `bbox`; boxes come from the masks.
# Validation reports this project's metrics (attribute-aware AP and more);
# `tools/test.py` reports Fashionpedia's own AP^{IoU+F1} and AP^{IoU},
# exactly as its official evaluator (`FashionpediaMetric`).
# Expected layout (the official file names):
#   data/fashionpedia/annotations/instances_attributes_train2020.json
#   data/fashionpedia/annotations/instances_attributes_val2020.json
#   data/fashionpedia/train/*.jpg   data/fashionpedia/test/*.jpg
_base_ = './mask2former-attr_r50_8xb2-lsj-50e_coco-attr.py'

data_root = 'data/fashionpedia/'
train_ann = 'annotations/instances_attributes_train2020.json'
val_ann = 'annotations/instances_attributes_val2020.json'
classes = (
    'shirt, blouse', 'top, t-shirt, sweatshirt', 'sweater', 'cardigan',
    'jacket', 'vest', 'pants', 'shorts', 'skirt', 'coat', 'dress', 'jumpsuit',
    'cape', 'glasses', 'hat', 'headband, head covering, hair accessory',
    'tie', 'glove', 'watch', 'belt', 'leg warmer', 'tights, stockings',
    'sock', 'shoe', 'bag, wallet', 'scarf', 'umbrella', 'hood', 'collar',
    'lapel', 'epaulette', 'sleeve', 'pocket', 'neckline', 'buckle', 'zipper',
    'applique', 'bead', 'bow', 'flower', 'fringe', 'ribbon', 'rivet',
    'ruffle', 'sequin', 'tassel')  # fmt: skip
# The path of an annotation file: its attribute groups are taken.
attribute_groups = data_root + train_ann
num_classes = len(classes)
metainfo = dict(classes=classes, attribute_groups=attribute_groups)

model = dict(
    panoptic_head=dict(
        num_things_classes=num_classes,
        attribute_groups=attribute_groups,
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        # Few of the hundreds of attribute values are present per garment:
        # a sigmoid focal loss, as Fashionpedia's Attribute-Mask R-CNN.
        loss_attr_multi=dict(type='AttrFocalLoss', loss_weight=2.0),
    ),
    panoptic_fusion_head=dict(
        num_things_classes=num_classes, attribute_groups=attribute_groups
    ),
)

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=train_ann,
        data_prefix=dict(img='train/'),
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=val_ann,
        data_prefix=dict(img='test/'),
    )
)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + val_ann)
test_evaluator = dict(
    _delete_=True,
    type='FashionpediaMetric',
    ann_file=data_root + val_ann,
    metric=['segm', 'bbox'],
)
