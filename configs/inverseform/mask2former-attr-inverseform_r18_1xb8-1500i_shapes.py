# mask2former-attr_r18_1xb8-1500i_shapes.py with an InverseForm boundary term
# on the matched masks of every decoder layer: each matched query's mask
# logits (upsampled to the 128x128 ground truth) against its matched mask,
# compared as one 64x64 tile (the IF-Net's tile size). The IF-Net is trained
# on the data set's own boundaries first:
#   python tools/train.py configs/inverseform/ifnet_s64_1xb32-3k_shapes.py
_base_ = '../mask2former-attr/mask2former-attr_r18_1xb8-1500i_shapes.py'
# a list is replaced, not merged: the base's imports and InverseForm
custom_imports = dict(
    imports=['mmmultilabel', 'mmmultilabel.inverseform'],
    allow_failed_imports=False,
)

inverseform_checkpoint = 'work_dirs/ifnet_s64_1xb32-3k_shapes/iter_3000.pth'
model = dict(
    panoptic_head=dict(
        type='BoundaryAttrMask2FormerHead',
        loss_boundary=dict(
            type='InverseFormLoss',
            checkpoint=inverseform_checkpoint,
            loss_weight=1.0,
            loss_name='loss_inverseform',
        ),
    )
)
