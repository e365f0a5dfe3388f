#!/usr/bin/env python
"""Time one attention (forward and backward) through each kernel, at the
shapes of mmsiam's ViT-B paper configs, in fp32 and under bf16 autocast
(fp16 on CUDA).

Kernels: torch's ``F.scaled_dot_product_attention`` (its default choice:
flash on CPU, flash / memory-efficient on CUDA), torch's math backend, and
mmsiam's ``explicit_attention`` (``softmax(q k^T) v`` as separate
products). ``mmsiam.models.layers.scaled_dot_product_attention`` times
torch's default and the explicit products once per input signature in
each process and takes the faster; this tool shows the three side by side
at the paper shapes (docs/performance.md, "Attention on CPU").

Example::

    python tools/analysis_tools/benchmark_attention.py --batch-size 4
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from mmsiam.models.layers import explicit_attention

# (what, heads, tokens, head dims) at batch 4 of the ViT-B paper configs.
SHAPES = [
    ('SiameseIM encoder, visible patches', 12, 79, 64),
    ('SiameseIM target encoder / ConMIM encoders', 12, 197, 64),
    ('SiameseIM predictor', 16, 275, 48),
]


def math_attention(q, k, v):
    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(q, k, v)


KERNELS = {
    'torch SDPA (default)': F.scaled_dot_product_attention,
    'torch SDPA (math)': math_attention,
    'explicit products': explicit_attention,
}


def time_kernel(kernel, shape, amp: bool, device, repeats: int) -> float:
    """Median milliseconds of forward + backward."""
    q, k, v = [torch.randn(*shape, device=device, requires_grad=True)
               for _ in range(3)]
    dtype = torch.bfloat16 if device.type == 'cpu' else torch.float16

    def run():
        with torch.autocast(device.type, dtype=dtype, enabled=amp):
            # The projections' outputs are low precision under autocast.
            inputs = [t.to(dtype) if amp else t for t in (q, k, v)]
            out = kernel(*inputs)
        out.float().sum().backward()
        if device.type == 'cuda':
            torch.cuda.synchronize()

    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=10)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    low = 'bf16' if device.type == 'cpu' else 'fp16'
    print(f'device: {device.type}, threads: {torch.get_num_threads()}, '
          f'batch: {args.batch_size}; ms per forward + backward (median)')
    print('| attention (heads x tokens x dims) | precision | '
          + ' | '.join(KERNELS) + ' |')
    print('|---|---|' + '---|' * len(KERNELS))
    for what, heads, tokens, dims in SHAPES:
        shape = (args.batch_size, heads, tokens, dims)
        for amp in (False, True):
            cells = [
                f'{time_kernel(kernel, shape, amp, device, args.repeats):.2f}'
                for kernel in KERNELS.values()
            ]
            print(f'| {what} ({heads} x {tokens} x {dims}) | '
                  f'{low if amp else "fp32"} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
