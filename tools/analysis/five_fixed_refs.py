# Copyright (c) rht_mmpose authors.
"""Table VII "random" reference: one test run per fixed training face, and
the mean of the runs.

The config names the faces in ``ref_indices`` (indices into its reference
pool, e.g. configs/ablations/rht_hrnet_w48_300w_ref_five_fixed.py); each run
uses one of them as the reference of every test face
(``test_dataloader.dataset.ref_mode='fixed'``, ``ref_index=i``). Prints and
writes (``--out``) every run's metrics and their mean and standard
deviation.

    python tools/analysis/five_fixed_refs.py CONFIG CHECKPOINT \
        [--work-dir DIR] [--out five_fixed.json]
"""
import argparse
import copy
import json
import os.path as osp
from typing import Callable, Dict, List, Sequence

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--out', default=None, help='json of the runs')
    return parser.parse_args(argv)


def mean_of_runs(runs: Sequence[Dict[str, float]]) -> Dict[str, dict]:
    """Mean and (population) standard deviation of every metric key that
    all runs report.

    Args:
        runs (Sequence[dict]): metric dicts, one per reference face.

    Returns:
        dict: ``{key: dict(mean=..., std=...)}``.
    """
    if not runs:
        raise ValueError('no runs to average')
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    out = {}
    for k in keys:
        vals = np.array([float(r[k]) for r in runs], dtype=np.float64)
        out[k] = dict(mean=float(vals.mean()), std=float(vals.std()))
    return out


def run_fixed_references(cfg, test_one: Callable[[object], dict]
                         ) -> List[dict]:
    """Run ``test_one`` on a copy of ``cfg`` per entry of ``cfg.ref_indices``.

    Args:
        cfg (mmengine.Config): a config with ``ref_indices`` and a
            ``PairedReferenceDataset`` test loader.
        test_one (callable): config -> metrics dict (e.g. a Runner's
            ``test()``).

    Returns:
        list[dict]: ``dict(ref_index=i, metrics=...)`` per face.
    """
    indices = cfg.get('ref_indices')
    if not indices:
        raise ValueError(f'config {cfg.filename!r} has no ref_indices, '
                         f'expected the list of reference faces')
    runs = []
    for i in indices:
        one = copy.deepcopy(cfg)
        for key in ('val_dataloader', 'test_dataloader'):
            ds = one[key]['dataset']
            ds['ref_mode'] = 'fixed'
            ds['ref_index'] = int(i)
            ds.pop('ref_img_id', None)
        runs.append(dict(ref_index=int(i), metrics=dict(test_one(one))))
    return runs


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.runner import Runner

    import rht_mmpose  # noqa: F401
    cfg = Config.fromfile(args.config)
    cfg.load_from = args.checkpoint
    base_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0])

    def test_one(one):
        one.work_dir = osp.join(
            base_dir, f'ref_{one.test_dataloader.dataset.ref_index}')
        return Runner.from_cfg(one).test()

    runs = run_fixed_references(cfg, test_one)
    summary = mean_of_runs([r['metrics'] for r in runs])
    for r in runs:
        print(f'reference {r["ref_index"]}: ' + ', '.join(
            f'{k} {v:.5f}' for k, v in r['metrics'].items()))
    print('mean of the runs: ' + ', '.join(
        f'{k} {v["mean"]:.5f} (std {v["std"]:.5f})'
        for k, v in summary.items()))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(runs=runs, mean=summary), f, indent=1)
    return summary


if __name__ == '__main__':
    main()
