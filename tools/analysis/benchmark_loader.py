"""Samples/s of a config's train dataloader (paired target + reference,
augmentation and heatmap encoding included), on the CPU.

    python tools/analysis/benchmark_loader.py configs/rht_res50_300w_subset.py \
        --workers 2 --batches 40
"""
import argparse
import os.path as osp
import sys
import time
from functools import partial

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate, worker_init_fn
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import rht_mmpose  # noqa: E402,F401


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--batches', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=3)
    args = parser.parse_args()
    from mmpose.registry import DATASETS
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    t0 = time.time()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    print(f'dataset: {len(dataset)} samples, built in {time.time() - t0:.1f} s')
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=args.batch_size,
        num_workers=args.workers,
        shuffle=True,
        collate_fn=pseudo_collate,
        persistent_workers=args.workers > 0,
        worker_init_fn=partial(
            worker_init_fn, num_workers=args.workers, rank=0, seed=0)
        if args.workers else None)
    batches = iter(loader)
    for _ in range(args.warmup):
        next(batches)
    count, t0 = 0, time.time()
    for _ in range(args.batches):
        count += len(next(batches)['inputs'])
    seconds = time.time() - t0
    print(f'{count} samples in {seconds:.1f} s = {count / seconds:.1f} '
          f'samples/s ({args.workers} workers, batch {args.batch_size})')


if __name__ == '__main__':
    main()
