# fpn_r18-w32_1xb8-1k_shapes-semseg.py with the InverseForm boundary loss next
# to the cross-entropy of the decode head: the boundary of the predicted
# class probabilities against the ground truth's, in 2x2 tiles of 64x64 (the
# IF-Net's tile size) of each 128x128 label map. The IF-Net is trained on the
# data set's own boundaries first:
#   python tools/train.py configs/inverseform/ifnet_s64_1xb32-3k_shapes.py
_base_ = './fpn_r18-w32_1xb8-1k_shapes-semseg.py'
# as in the base: the loss below is registered by mmmultilabel.inverseform
custom_imports = dict(
    imports=['mmmultilabel', 'mmmultilabel.inverseform'],
    allow_failed_imports=False,
)

inverseform_checkpoint = 'work_dirs/ifnet_s64_1xb32-3k_shapes/iter_3000.pth'
model = dict(
    decode_head=dict(
        loss_decode=[
            dict(
                type='CrossEntropyLoss',
                use_sigmoid=False,
                loss_weight=1.0,
                avg_non_ignore=True,
            ),
            dict(
                type='InverseFormLoss',
                checkpoint=inverseform_checkpoint,
                grid=(2, 2),
                loss_weight=1.0,
            ),
        ]
    )
)
