"""Fixtures of the model tests (helpers in ``attr_model_utils``)."""

from typing import Callable

import numpy as np
import pytest
import torch
from attr_model_utils import (
    ATTRIBUTE_GROUPS,
    IMAGE_SIZES,
    make_sample,
    to_attr_model,
)
from mmdet.registry import MODELS

from mmmultilabel.utils import AttributeSpec


@pytest.fixture
def attr_model_cfg(mask2former_cfg):
    """Model config of the shrunk attribute Mask2Former."""
    return to_attr_model(mask2former_cfg.model, ATTRIBUTE_GROUPS)


@pytest.fixture
def attr_model(attr_model_cfg):
    """The shrunk attribute Mask2Former detector, seeded."""
    torch.manual_seed(0)
    return MODELS.build(attr_model_cfg)


@pytest.fixture
def make_batch() -> Callable[..., dict]:
    """Factory of a raw batch (before the data preprocessor).

    ``make_batch(num_gts=(2, 3), seed=0, with_attr=True, sizes=IMAGE_SIZES,
    ori_scale=1.0)`` returns ``dict(inputs=[...], data_samples=[...])``
    with random uint8 images of ``sizes``.
    """

    def _make(
        num_gts=(2, 3),
        seed: int = 0,
        with_attr: bool = True,
        sizes=IMAGE_SIZES,
        ori_scale: float = 1.0,
    ) -> dict:
        rng = np.random.RandomState(seed)
        spec = AttributeSpec(ATTRIBUTE_GROUPS) if with_attr else None
        inputs, samples = [], []
        for i, ((h, w), n) in enumerate(zip(sizes, num_gts)):
            inputs.append(
                torch.from_numpy(rng.randint(0, 256, (3, h, w), np.uint8))
            )
            samples.append(make_sample(h, w, n, rng, i, spec, ori_scale))
        return dict(inputs=inputs, data_samples=samples)

    return _make
