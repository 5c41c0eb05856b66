# mask2former-attr_r50_8xb2-lsj-50e_coco-attr.py with automatic mixed
# precision, as mmdet's *_8xb8-amp-lsj-200e_coco.py configs: float16 forward
# passes on the GPUs with dynamic loss scaling. The attribute match costs
# compute in float32 under autocast; the attribute losses are float32.
# `tools/train.py --amp` turns on the same for any config.
_base_ = './mask2former-attr_r50_8xb2-lsj-50e_coco-attr.py'

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
