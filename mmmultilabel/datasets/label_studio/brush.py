"""Label Studio's brush RLE: a bit-packed run-length code of RGBA bytes.

A ``brushlabels`` region stores its mask as ``value.rle``: a list of byte
values (0..255) of the bit stream of the npm package ``rle-pack``, the
encoding that Label Studio's editor and ``label_studio_converter/brush.py``
use, over the
RGBA bytes of an image of the original size (``H * W * 4`` values, row by
row). The stream is, most significant bit first:

* a header: the number of values (32 bits), the word size minus one
  (5 bits) and four run-length field sizes minus one (4 bits each);
* records until every value is written: a flag bit (1: one value
  repeated, 0: values given one by one), a 2-bit index into the four
  field sizes, the run length minus one in that many bits, then the
  repeated value or the run's values (word size bits each).

A pixel belongs to the mask when its alpha byte is above 0 (the editor
paints regions opaque; ``mask2rle`` of the converter writes the mask value
into all four bytes).
"""

from typing import List, Sequence

import numpy as np

from mmmultilabel.utils import InputError

#: Bits of the header: count, word size, four run-length field sizes.
_HEADER_BITS = 32 + 5 + 4 * 4
#: Field sizes (bits of a run length) of the encoder, as the converter's.
RUN_FIELD_BITS = (3, 4, 8, 16)


class BrushRLEError(InputError):
    """A brush RLE that cannot be decoded; the message says why."""


class _BitReader:
    """Reads unsigned big-endian fields from a bit string."""

    def __init__(self, data: bytes) -> None:
        bits = np.unpackbits(np.frombuffer(data, np.uint8))
        self.bits = (bits + ord('0')).tobytes().decode('ascii')  # '0101...'
        self.pos = 0

    def read(self, size: int) -> int:
        end = self.pos + size
        if end > len(self.bits):
            raise BrushRLEError(
                f'the stream ends in the middle of a record (bit {self.pos} '
                f'of {len(self.bits)}): the RLE is truncated'
            )
        field = self.bits[self.pos : end]
        self.pos = end
        return int(field, 2) if size else 0


def _as_bytes(rle: Sequence[int]) -> bytes:
    try:
        arr = np.asarray(rle)
    except (TypeError, ValueError):
        arr = np.zeros(0, object)
    if (
        arr.ndim != 1
        or arr.size == 0
        or arr.dtype.kind not in 'iu'
        or arr.min() < 0
        or arr.max() > 255
    ):
        raise BrushRLEError(
            'value.rle must be a non-empty list of byte values 0..255, got '
            f'{str(rle)[:60]}'
        )
    return arr.astype(np.uint8).tobytes()


def decode_rle(rle: Sequence[int]) -> np.ndarray:
    """Decode a brush RLE into its values.

    Args:
        rle (Sequence[int]): Bytes of the bit stream (``value.rle``).

    Returns:
        np.ndarray: The decoded values, shape (N, ), uint32 (N is the
        count of the header; ``H * W * 4`` for a Label Studio mask).

    Raises:
        BrushRLEError: for a stream that is not a list of bytes, is
            truncated, or whose runs do not add up to its count.
    """
    reader = _BitReader(_as_bytes(rle))
    if len(reader.bits) < _HEADER_BITS:
        raise BrushRLEError(
            f'{len(reader.bits) // 8} byte(s) are shorter than the 7-byte '
            'header: the RLE is truncated'
        )
    num = reader.read(32)
    word = reader.read(5) + 1
    sizes = [reader.read(4) + 1 for _ in range(4)]
    lengths: List[int] = []
    values: List[int] = []
    done = 0
    while done < num:
        repeat = reader.read(1)
        length = reader.read(sizes[reader.read(2)]) + 1
        if done + length > num:
            raise BrushRLEError(
                f'a run of {length} value(s) at value {done} goes past the '
                f'count {num} of the header: the RLE is corrupt'
            )
        if repeat:
            lengths.append(length)
            values.append(reader.read(word))
        else:
            lengths += [1] * length
            values += [reader.read(word) for _ in range(length)]
        done += length
    return np.repeat(np.asarray(values, np.uint32), lengths)


def rle_to_mask(rle: Sequence[int], height: int, width: int) -> np.ndarray:
    """Mask of a ``brushlabels`` region.

    Args:
        rle (Sequence[int]): ``value.rle``.
        height (int): ``original_height``.
        width (int): ``original_width``.

    Returns:
        np.ndarray: Bool array of shape (height, width): alpha > 0.

    Raises:
        BrushRLEError: if the RLE is broken or not of ``height x width``
            RGBA pixels.
    """
    values = decode_rle(rle)
    if values.size != height * width * 4:
        raise BrushRLEError(
            f'the RLE holds {values.size} values but an RGBA image of '
            f'{height}x{width} (original_height x original_width) has '
            f'{height * width * 4}: the RLE belongs to another image size'
        )
    return values.reshape(height, width, 4)[:, :, 3] > 0  # (H*W*4,) -> (H, W)


def _run_records(length: int, value: int) -> str:
    """Bits of one run of ``length`` equal 8-bit values."""
    if length == 1:
        return f'000000{value:08b}'  # one value given alone
    out = []
    while length > 0:
        chunk = min(length, 1 << RUN_FIELD_BITS[-1])
        idx = next(i for i, b in enumerate(RUN_FIELD_BITS) if chunk <= 1 << b)
        bits = RUN_FIELD_BITS[idx]
        out.append(f'1{idx:02b}{chunk - 1:0{bits}b}{value:08b}')
        length -= chunk
    return ''.join(out)


def encode_rle(values: np.ndarray) -> List[int]:
    """Encode 8-bit values as a brush RLE (word size 8, run-length fields
    of 3, 4, 8 and 16 bits), as ``label_studio_converter``'s
    ``encode_rle``: one record per run of equal values; the stream is
    padded with 1 to 8 zero bits.

    Args:
        values (np.ndarray): Values 0..255, shape (N, ), N > 0.

    Returns:
        list[int]: Bytes of the bit stream.
    """
    values = np.asarray(values).reshape(-1).astype(np.uint8)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [values.size]]))
    head = f'{values.size:032b}{7:05b}' + ''.join(
        f'{b - 1:04b}' for b in RUN_FIELD_BITS
    )
    body = ''.join(
        _run_records(int(n), int(v)) for n, v in zip(lengths, values[starts])
    )
    bits = head + body
    bits += '0' * (8 - len(bits) % 8)
    packed = np.packbits(np.frombuffer(bits.encode('ascii'), np.uint8) - 48)
    return packed.tolist()


def mask_to_rle(mask: np.ndarray) -> List[int]:
    """Brush RLE of a mask: every byte of a mask pixel is 255.

    Args:
        mask (np.ndarray): Bool or 0/1 array of shape (H, W).

    Returns:
        list[int]: ``value.rle`` of a ``brushlabels`` region.
    """
    pixels = (np.asarray(mask) > 0).astype(np.uint8) * 255
    return encode_rle(np.repeat(pixels.reshape(-1), 4))  # (H, W) -> (H*W*4,)
