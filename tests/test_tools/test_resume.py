"""Kill-and-resume: a run SIGKILLed in the middle of writing a checkpoint
resumes with ``--resume`` from the previous complete checkpoint and ends
exactly where an uninterrupted run ends (iteration, learning rate of every
iteration, losses, optimizer state, weights, RNG state)."""
import glob
import math
import os.path as osp

import pytest
import torch

from tests.test_engine import train_helpers as th

FAULT_CFG = """
custom_imports = dict(
    imports=['rht_mmpose', 'tests.test_engine.fault_injection'],
    allow_failed_imports=False)
"""


def _by_iter(records, key):
    return {r['iter']: r[key] for r in records if key in r and 'iter' in r}


@pytest.fixture(scope='module')
def baseline(data_root, tmp_path_factory):
    """An uninterrupted 6-iteration run of the reliable smoke config."""
    tmp = tmp_path_factory.mktemp('baseline')
    work_dir = str(tmp / 'work')
    proc = th.run(th.train_cmd(th.RELIABLE_CONFIG, work_dir), data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir


def test_kill_during_checkpoint_write_then_resume(baseline, data_root,
                                                  tmp_path):
    cfg = th.write_config(tmp_path, FAULT_CFG)
    work_dir = str(tmp_path / 'work')
    marker = str(tmp_path / 'stalled')

    # 1. killed while iter_4.pth is half written
    th.start_and_kill_when(
        th.train_cmd(cfg, work_dir), data_root, marker,
        RHT_TEST_STALL_WRITE='iter_4.pth', RHT_TEST_STALL_MARKER=marker)
    with open(marker) as f:
        partial = f.read().strip()
    assert osp.basename(partial).startswith('.iter_4.pth.')
    assert osp.isfile(partial) and osp.getsize(partial) > 0
    assert not osp.exists(osp.join(work_dir, 'iter_4.pth'))
    assert th.last_checkpoint(work_dir) == osp.join(work_dir, 'iter_2.pth')
    assert th.load(osp.join(work_dir, 'iter_2.pth'))['meta']['iter'] == 2

    # 2. --resume picks the complete iter_2.pth, drops the partial file
    proc = th.run(th.train_cmd(cfg, work_dir, '--resume'), data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert not osp.exists(partial)
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, '*.pth'))) == ['iter_4.pth', 'iter_6.pth']
    assert th.last_checkpoint(work_dir) == osp.join(work_dir, 'iter_6.pth')

    # 3. same trajectory as the uninterrupted run
    ref, res = th.scalars(baseline), th.scalars(work_dir)
    ref_lr, res_lr = _by_iter(ref, 'lr'), _by_iter(res, 'lr')
    assert sorted(ref_lr) == list(range(1, 7))
    assert len(set(ref_lr.values())) == 6  # the lr changes every iteration
    assert set(range(3, 7)) <= set(res_lr)
    for it in range(1, 7):
        if it in res_lr:
            assert math.isclose(res_lr[it], ref_lr[it], rel_tol=1e-9), it
    ref_loss, res_loss = _by_iter(ref, 'loss'), _by_iter(res, 'loss')
    for it in range(3, 7):
        assert math.isclose(res_loss[it], ref_loss[it], rel_tol=1e-5), (
            it, res_loss[it], ref_loss[it])

    a = th.load(osp.join(baseline, 'iter_6.pth'))
    b = th.load(osp.join(work_dir, 'iter_6.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 6
    assert (a['message_hub']['runtime_info']['iter'] ==
            b['message_hub']['runtime_info']['iter'])
    assert a['param_schedulers'] == b['param_schedulers']
    assert ([g['lr'] for g in a['optimizer']['param_groups']] ==
            [g['lr'] for g in b['optimizer']['param_groups']])
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys()
    for k in sa:
        assert float(sa[k]['step']) == float(sb[k]['step']) == 6.0
        torch.testing.assert_close(sa[k]['exp_avg'], sb[k]['exp_avg'])
        torch.testing.assert_close(sa[k]['exp_avg_sq'], sb[k]['exp_avg_sq'])
    for k, v in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][k], v, msg=k)
    ra, rb = a['meta']['rng_state'], b['meta']['rng_state']
    assert torch.equal(ra['torch'], rb['torch'])
    assert torch.equal(ra['numpy'][1], rb['numpy'][1])
    assert ra['python'] == rb['python']


def test_resume_from_named_checkpoint_of_killed_run(baseline, data_root,
                                                    tmp_path):
    """``--resume PATH`` with a checkpoint of another run's work dir (e.g.
    the last good one named by NonFiniteLossHook) also ends at iter 6."""
    work_dir = str(tmp_path / 'work')
    proc = th.run(
        th.train_cmd(th.RELIABLE_CONFIG, work_dir, '--resume',
                     osp.join(baseline, 'iter_4.pth')), data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 4' in proc.stdout + proc.stderr
    b = th.load(osp.join(work_dir, 'iter_6.pth'))
    a = th.load(osp.join(baseline, 'iter_6.pth'))
    for k, v in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][k], v, msg=k)
