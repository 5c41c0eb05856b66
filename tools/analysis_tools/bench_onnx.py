"""Images per second of ONNX Runtime against PyTorch on the CPU.

The demo model (``configs/mask2former-attr/
mask2former-attr_r18_1xb8-1500i_shapes.py``, random weights unless a
checkpoint is given) is exported once per size as a static graph; PyTorch,
then ONNX Runtime, run the same normalised batch of one image, and the
median time per image gives the throughput. The export time is
printed too. Only the network is timed (what the graph holds); the
post-processing is the same Python code on both sides. The exit status is
1 if ONNX Runtime is below ``--target`` times PyTorch's throughput at any
size.

Example:
    python tools/analysis_tools/bench_onnx.py --sizes 128 512 --repeats 10
"""

import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import List, Optional

import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.runner import load_checkpoint

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.deploy import AttrMask2FormerGraph, export_onnx
from mmmultilabel.utils.checkpoint import checkpoint_safe_globals

DEMO_CFG = 'configs/mask2former-attr/mask2former-attr_r18_1xb8-1500i_shapes.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config', default=DEMO_CFG, help='model config (default: demo)'
    )
    parser.add_argument(
        '--checkpoint', default=None, help='weights (default: random)'
    )
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[128, 512],
        help='square input sizes to time, one static graph each',
    )
    parser.add_argument(
        '--repeats', type=int, default=10, help='timed runs per backend'
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help="threads of both backends (default: torch's)",
    )
    parser.add_argument(
        '--target',
        type=float,
        default=1.3,
        help='least ONNX Runtime / PyTorch throughput; exit 1 below it',
    )
    return parser.parse_args(argv)


def _median_time(fn, repeats: int, warmup: int = 3) -> float:
    # PyTorch's first calls on a new shape are several times slower
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import onnxruntime as ort

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    if args.checkpoint:
        # weights_only, with mmengine's own checkpoint globals allowed
        with checkpoint_safe_globals(args.checkpoint):
            load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.dataset_meta = dict(cfg.test_dataloader.dataset.metainfo)
    graph = AttrMask2FormerGraph(model).eval()
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    # no busy-waiting between runs: it would slow PyTorch's turns down
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    print(
        f'{osp.basename(args.config)}; torch {torch.__version__} '
        f'({torch.get_num_threads()} threads, '
        f'{torch.backends.cpu.get_cpu_capability()}); onnxruntime '
        f'{ort.__version__}; median of {args.repeats} runs, batch 1'
    )
    print('| size | export s | PyTorch img/s | ONNX Runtime img/s | ratio |')
    print('| --- | --- | --- | --- | --- |')
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            onnx_file = osp.join(tmp, f'{size}.onnx')
            start = time.perf_counter()
            export_onnx(model, cfg, onnx_file, shape=(size, size))
            export_s = time.perf_counter() - start
            inputs = torch.randn(1, 3, size, size)
            array = inputs.numpy()

            def run_torch():
                with torch.no_grad():
                    graph(inputs)

            t_torch = _median_time(run_torch, args.repeats)
            session = ort.InferenceSession(
                onnx_file, options, providers=['CPUExecutionProvider']
            )
            t_ort = _median_time(
                lambda: session.run(None, {'input': array}), args.repeats
            )
            ratio = t_torch / t_ort
            print(
                f'| {size}x{size} | {export_s:.1f} | {1 / t_torch:.2f} | '
                f'{1 / t_ort:.2f} | {ratio:.2f}x |'
            )
            status |= ratio < args.target
    return int(status)


if __name__ == '__main__':
    sys.exit(main())
