"""Label Studio's brush RLE against the official package's strings.

The ``rle`` lists below were produced by label-studio-converter 0.0.59
(PyPI), in a separate virtual environment:

    from label_studio_converter.brush import mask2rle, encode_rle
    SMALL_RLE = mask2rle(SMALL_MASK * 255)          # SMALL_MASK as below
    b = np.zeros((140, 140), np.uint8); b[10:20, 20:120] = 1
    LONG_RLE = mask2rle(b * 255)
    RGBA_RLE = encode_rle(RGBA.ravel().astype(int))  # RGBA as below

and ``label_studio_converter.brush.decode_rle`` decodes them back to those
arrays. ``LONG_RLE`` has a run of more than 2**16 values (the 16-bit
length field is split).
"""

import numpy as np
import pytest

from mmmultilabel.datasets.label_studio.brush import (
    BrushRLEError,
    decode_rle,
    encode_rle,
    mask_to_rle,
    rle_to_mask,
)

SMALL_MASK = np.array(
    [
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 0, 0, 1, 1, 0],
        [1, 0, 0, 0, 0, 1],
    ],
    bool,
)
SMALL_RLE = [0, 0, 0, 96, 57, 27, 252, 96, 19, 255, 223, 0, 183, 255, 132,
             192, 39, 255, 140, 2, 63, 251, 224, 17, 255, 128]  # fmt: skip
LONG_RLE = [0, 1, 50, 64, 57, 27, 255, 22, 47, 0, 224, 49, 255, 250, 124, 3,
            128, 199, 255, 233, 240, 14, 3, 31, 255, 167, 192, 56, 12, 127,
            254, 159, 0, 224, 49, 255, 250, 124, 3, 128, 199, 255, 233, 240,
            14, 3, 31, 255, 167, 192, 56, 12, 127, 254, 159, 0, 224, 49, 255,
            250, 124, 3, 128, 199, 255, 255, 255, 240, 14, 13, 158,
            0]  # fmt: skip
RGBA = np.array(
    [
        [[9, 8, 7, 0], [200, 10, 10, 128], [1, 2, 3, 255]],
        [[0, 0, 0, 0], [5, 5, 5, 0], [250, 250, 250, 7]],
    ],
    np.uint8,
)
RGBA_RLE = [0, 0, 0, 24, 57, 27, 248, 1, 32, 4, 0, 14, 0, 0, 25, 16, 133, 1,
            0, 0, 8, 0, 64, 1, 129, 255, 24, 4, 64, 160, 0, 69, 244, 0,
            56]  # fmt: skip


def long_mask():
    mask = np.zeros((140, 140), bool)
    mask[10:20, 20:120] = True
    return mask


def test_official_strings_decode_to_their_masks():
    assert np.array_equal(rle_to_mask(SMALL_RLE, 4, 6), SMALL_MASK)
    assert np.array_equal(rle_to_mask(LONG_RLE, 140, 140), long_mask())
    # Literal records (values that change at every byte), any word values.
    assert np.array_equal(decode_rle(RGBA_RLE), RGBA.reshape(-1))
    assert np.array_equal(rle_to_mask(RGBA_RLE, 2, 3), RGBA[..., 3] > 0)


def test_encoder_writes_the_official_bytes():
    assert mask_to_rle(SMALL_MASK) == SMALL_RLE
    assert mask_to_rle(long_mask()) == LONG_RLE
    assert encode_rle(RGBA.reshape(-1)) == RGBA_RLE


def test_random_masks_round_trip():
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (7, 13), (64, 300)]:
        mask = rng.random(shape) < 0.3
        assert np.array_equal(rle_to_mask(mask_to_rle(mask), *shape), mask)


@pytest.mark.parametrize(
    'rle,size,message',
    [
        (SMALL_RLE[:-3], (4, 6), 'truncated'),
        (SMALL_RLE[:5], (4, 6), 'shorter than the 7-byte header'),
        (SMALL_RLE, (5, 6), 'belongs to another image size'),
        ([0, 0, 0, 8] + SMALL_RLE[4:], (4, 6), 'goes past the count'),
        ('abc', (4, 6), 'list of byte values'),
        ([0, 300], (4, 6), 'list of byte values'),
    ],
)
def test_broken_rle_is_a_clear_error(rle, size, message):
    with pytest.raises(BrushRLEError, match=message):
        rle_to_mask(rle, *size)
