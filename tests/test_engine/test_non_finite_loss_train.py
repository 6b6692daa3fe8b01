"""A real training run whose loss becomes NaN at iteration 3 stops there
with a message naming the iteration, the batch's images and the last good
checkpoint, and never writes a checkpoint with NaN weights."""
import glob
import os.path as osp

import torch

from tests.test_engine import train_helpers as th

NAN_CFG = """
custom_imports = dict(
    imports=['rht_mmpose', 'tests.test_engine.fault_injection'],
    allow_failed_imports=False)
model = dict(head=dict(loss=dict(
    _delete_=True, type='NaNFromCallLoss', nan_from=3,
    use_target_weight=True)))
train_cfg = dict(max_iters=5, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=-1))
"""


def test_nan_loss_stops_with_message_and_finite_checkpoints(
        data_root, tmp_path):
    cfg = th.write_config(tmp_path, NAN_CFG)
    work_dir = str(tmp_path / 'work')
    proc = th.run(th.train_cmd(cfg, work_dir), data_root)
    assert proc.returncode != 0
    err = proc.stderr
    assert 'NonFiniteLossError' in err, err[-3000:]
    assert 'non-finite loss at iteration 3' in err
    assert 'indoor_020.png' in err and 'indoor_029.png' in err
    last = osp.join(work_dir, 'iter_2.pth')
    assert f'last good checkpoint: {last}' in err
    saved = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    assert [osp.basename(p) for p in saved] == ['iter_1.pth', 'iter_2.pth']
    for path in saved:
        state = torch.load(path, map_location='cpu')['state_dict']
        for key, value in state.items():
            if value.is_floating_point():
                assert torch.isfinite(value).all(), (path, key)
    assert th.last_checkpoint(work_dir) == last
