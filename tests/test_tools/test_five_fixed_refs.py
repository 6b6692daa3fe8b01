"""tools/analysis/five_fixed_refs.py: one run per fixed reference, mean."""
import os.path as osp
import sys

import pytest
from mmengine import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
from five_fixed_refs import mean_of_runs, run_fixed_references  # noqa


def test_runs_one_test_per_reference_and_averages():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'ablations',
                 'rht_hrnet_w48_300w_ref_five_fixed.py'))
    seen = []

    def fake_test(one):
        ds = one.test_dataloader.dataset
        seen.append((ds.ref_mode, ds.ref_index))
        return {'NME': ds.ref_index / 1e5, 'FR@0.1': 0.0}

    runs = run_fixed_references(cfg, fake_test)
    assert seen == [('fixed', i) for i in cfg.ref_indices]
    assert len(set(cfg.ref_indices)) == 5
    assert cfg.test_dataloader.dataset.ref_index == 0  # cfg not changed
    mean = mean_of_runs([r['metrics'] for r in runs])
    vals = [i / 1e5 for i in cfg.ref_indices]
    assert mean['NME']['mean'] == pytest.approx(sum(vals) / 5)
    assert mean['FR@0.1'] == dict(mean=0.0, std=0.0)


def test_errors():
    with pytest.raises(ValueError, match='no runs'):
        mean_of_runs([])
    cfg = Config(dict(test_dataloader=dict(dataset=dict())))
    with pytest.raises(ValueError, match='has no ref_indices'):
        run_fixed_references(cfg, lambda c: {})
