"""End-to-end wiring: mmpose's own train script and ours build a config that
imports rht_mmpose, train 2 iterations on the CPU and write a checkpoint and
a log with a finite loss."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SMOKE_CONFIG = osp.join(REPO_ROOT, 'configs', 'smoke',
                        'heatmap_res18_300w_samples.py')
BIN_DIR = osp.dirname(sys.executable)


def _env(data_root):
    env = dict(os.environ, RHT_DATA_ROOT=data_root, PYTHONUNBUFFERED='1')
    env['PATH'] = BIN_DIR + os.pathsep + env.get('PATH', '')
    return env


def _losses(work_dir):
    """Read every 'loss' value from the scalars.json files of a work dir."""
    losses = []
    for root, _, files in os.walk(work_dir):
        for name in files:
            if name == 'scalars.json':
                with open(osp.join(root, name)) as f:
                    for line in f:
                        rec = json.loads(line)
                        if 'loss' in rec:
                            losses.append(rec['loss'])
    return losses


@pytest.mark.parametrize('launcher', ['tools/train.py', 'mim'])
def test_two_iterations_write_checkpoint_and_finite_loss(
        launcher, data_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    if launcher == 'mim':
        cmd = [osp.join(BIN_DIR, 'mim'), 'train', 'mmpose', SMOKE_CONFIG]
    else:
        cmd = [sys.executable, osp.join(REPO_ROOT, launcher), SMOKE_CONFIG]
    cmd += ['--work-dir', work_dir]
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=_env(data_root), capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth')), os.listdir(work_dir)
    losses = _losses(work_dir)
    assert len(losses) == 2, losses
    assert all(math.isfinite(v) for v in losses), losses


def test_unregistered_type_names_the_type(data_root, tmp_path):
    bad_cfg = tmp_path / 'bad.py'
    bad_cfg.write_text(
        f"_base_ = [{SMOKE_CONFIG!r}]\n"
        "model = dict(head=dict(type='NoSuchHeadXYZ'))\n")
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
         str(bad_cfg), '--work-dir', str(tmp_path / 'w')],
        cwd=REPO_ROOT, env=_env(data_root), capture_output=True, text=True,
        timeout=600)
    assert proc.returncode != 0
    assert 'NoSuchHeadXYZ' in proc.stderr


def test_missing_data_root_names_path_and_variable(data_root, tmp_path):
    missing = str(tmp_path / 'nowhere')
    env = _env(data_root)
    env['RHT_DATA_ROOT'] = missing
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
         SMOKE_CONFIG, '--work-dir', str(tmp_path / 'w')],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert missing in proc.stderr
    assert 'RHT_DATA_ROOT' in proc.stderr


def test_fixture_message_when_data_is_missing(monkeypatch, tmp_path):
    from tests.conftest import resolve_data_root
    monkeypatch.setenv('RHT_DATA_ROOT', str(tmp_path / 'absent'))
    with pytest.raises(FileNotFoundError, match='RHT_DATA_ROOT'):
        resolve_data_root()


def test_amp_on_a_cpu_trains_in_bfloat16(data_root, tmp_path):
    """mmengine's AmpOptimWrapper refuses a machine without a GPU; --amp
    there trains with BF16AutocastOptimWrapper."""
    if __import__('torch').cuda.is_available():
        pytest.skip('--amp on a GPU is mmengine\'s AmpOptimWrapper')
    work_dir = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
         SMOKE_CONFIG, '--work-dir', str(work_dir), '--amp'],
        cwd=REPO_ROOT, env=_env(data_root), capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    dumped = (work_dir / 'heatmap_res18_300w_samples.py').read_text()
    assert "type='BF16AutocastOptimWrapper'" in dumped
    losses = _losses(str(work_dir))
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
