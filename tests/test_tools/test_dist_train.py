"""Two-process CPU training (torchrun, gloo): both ranks finish, rank 0
writes one checkpoint, the loss is finite, and the validation metric of the
distributed run equals a single-process tools/test.py of that checkpoint."""
import glob
import json
import math
import os.path as osp
import shutil
import socket
import sys

from tests.test_engine import train_helpers as th

DIST_CFG = """
train_cfg = dict(max_iters=4, val_interval=4)
default_hooks = dict(checkpoint=dict(interval=4))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_torchrun_two_cpu_processes(data_root, tmp_path):
    cfg = th.write_config(tmp_path, DIST_CFG)
    work_dir = str(tmp_path / 'work')
    torchrun = shutil.which('torchrun', path=th.BIN_DIR)
    assert torchrun, f'torchrun not found in {th.BIN_DIR}'
    cmd = [
        torchrun, '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
        '--master_port', str(_free_port()), th.TRAIN, cfg, '--work-dir',
        work_dir, '--launcher', 'pytorch', '--cfg-options',
        'env_cfg.dist_cfg.backend=gloo',
        'model_wrapper_cfg.type=CPUAwareDistributedDataParallel'
    ]
    proc = th.run(cmd, data_root, timeout=400)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]  # torchrun: every rank exit 0
    assert 'world_size: 2' in log or 'Distributed training: True' in log

    ckpts = glob.glob(osp.join(work_dir, '*.pth'))
    assert [osp.basename(p) for p in ckpts] == ['iter_4.pth']
    records = th.scalars(work_dir)
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    val = [r for r in records if 'NME' in r]
    assert len(val) == 1, records
    dist_nme = val[0]['NME']

    out = str(tmp_path / 'test_metrics.json')
    proc = th.run([
        sys.executable, th.TEST, cfg, ckpts[0], '--work-dir',
        str(tmp_path / 'test'), '--out', out
    ], data_root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        single_nme = json.load(f)['NME']
    assert math.isclose(dist_nme, single_nme, rel_tol=1e-5), (dist_nme,
                                                              single_nme)
