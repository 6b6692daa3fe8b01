"""Samples/s of a config's train dataloader (paired target + reference,
augmentation and heatmap encoding included), on the CPU.

    python tools/experiments/benchmark_loader.py configs/experiments/rht_res50_300w_subset.py \
        --workers 2 --batches 40
    # with and without the reference cache (PairedReferenceDataset
    # ref_cache=True), one after the other in the same run, and the ratio
    python tools/experiments/benchmark_loader.py configs/experiments/rht_res50_300w_subset.py \
        --workers 2 --batches 40 --ref-cache both
"""
import argparse
import time
from functools import partial

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate, worker_init_fn
from mmengine.registry import init_default_scope

import rht_mmpose  # noqa: F401


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--batches', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--ref-cache', choices=['off', 'on', 'both'], default='off',
        help='PairedReferenceDataset ref_cache for the train set; both: '
        'without, then with, and the ratio')
    args = parser.parse_args()
    from mmpose.registry import DATASETS
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    modes = [False, True] if args.ref_cache == 'both' else \
        [args.ref_cache == 'on']
    rates = {}
    for use_cache in modes:
        ds_cfg = cfg.train_dataloader.dataset.copy()
        ds_cfg.ref_cache = use_cache
        t0 = time.time()
        dataset = DATASETS.build(ds_cfg)
        print(f'dataset: {len(dataset)} samples, ref_cache={use_cache}, '
              f'built in {time.time() - t0:.1f} s')
        rates[use_cache] = samples_per_second(dataset, args)
        print(f'ref_cache={use_cache}: {rates[use_cache]:.1f} samples/s '
              f'({args.workers} workers, batch {args.batch_size})')
    if len(rates) == 2:
        print(f'ratio with / without the reference cache: '
              f'{rates[True] / rates[False]:.2f}')


def samples_per_second(dataset, args) -> float:
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
    del batches
    return count / seconds


if __name__ == '__main__':
    main()
