"""Export an attribute Mask2Former checkpoint to one ONNX graph.

Examples:
    python tools/deployment/export_onnx.py CONFIG CHECKPOINT model.onnx \\
        --shape 128 128
    python tools/deployment/export_onnx.py CONFIG CHECKPOINT model.onnx \\
        --dynamic

The graph takes the normalised, padded image batch ``input`` (N, 3, H, W)
and gives ``cls_logits``, ``mask_logits`` and ``attr_<group>`` per
attribute group; the class names, attribute groups, post-processing
settings and the config are in its ``metadata_props``. Run it with
``tools/infer.py CONFIG model.onnx ...`` or ``AttrInferencer(weights=
'model.onnx')`` (``docs/deployment.md``).
"""

import argparse
import os.path as osp
import sys
import time
from typing import List, Optional

from mmengine.config import Config

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.apis import AttrInferencer
from mmmultilabel.deploy import (
    DEFAULT_OPSET,
    DeployError,
    check_exportable,
    check_exportable_config,
    export_onnx,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export an attribute Mask2Former to ONNX (logits of '
        'classes, masks and every attribute group; metadata for the '
        'post-processing)'
    )
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument(
        'out', help='ONNX file to write (an existing one only with --force)'
    )
    parser.add_argument(
        '--force', action='store_true', help='overwrite an existing OUT'
    )
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        default=None,
        help='input height and width after the test pipeline and padding '
        '(multiples of the pad size divisor); the only size a static graph '
        'takes. Required unless --dynamic (default then: 256 256 to trace)',
    )
    parser.add_argument(
        '--dynamic',
        action='store_true',
        help='dynamic batch size, height and width',
    )
    parser.add_argument(
        '--opset',
        type=int,
        default=DEFAULT_OPSET,
        help=f'ONNX opset, 16 or later (default: {DEFAULT_OPSET})',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not args.out.endswith('.onnx'):
        print(f'error: {args.out}: name the output *.onnx', file=sys.stderr)
        return 2
    if osp.exists(args.out) and not args.force:
        print(
            f'error: {args.out} exists; pass --force to overwrite it',
            file=sys.stderr,
        )
        return 2
    try:
        check_exportable_config(Config.fromfile(args.config), args.config)
        # the inferencer loads the checkpoint safely and strictly and
        # completes and checks the class names and attribute groups
        inferencer = AttrInferencer(
            args.config, args.checkpoint, device='cpu', show_progress=False
        )
        check_exportable(
            inferencer.model, f'{args.config} (with {args.checkpoint})'
        )
        start = time.perf_counter()
        info = export_onnx(
            inferencer.model,
            inferencer.cfg,
            args.out,
            shape=args.shape,
            dynamic=args.dynamic,
            opset=args.opset,
            checkpoint=args.checkpoint,
        )
    except (DeployError, ValueError, FileNotFoundError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    shape = 'x'.join('?' if s is None else str(s) for s in info.input_shape)
    print(
        f'{args.out}: input {shape}, outputs cls_logits, mask_logits, '
        + ', '.join(info.attr_outputs)
        + f'; opset {info.opset}; exported in '
        f'{time.perf_counter() - start:.1f} s'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
