"""Helpers for tests that run tools/train.py / tools/test.py in a
subprocess on the tiny smoke configs."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import List, Optional

import torch

from tests.conftest import REPO_ROOT

RELIABLE_CONFIG = osp.join(REPO_ROOT, 'configs', 'smoke',
                           'reliable_res18_300w_samples.py')
TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')
TEST = osp.join(REPO_ROOT, 'tools', 'test.py')
BIN_DIR = osp.dirname(sys.executable)


def env(data_root: str, **extra) -> dict:
    e = dict(os.environ, RHT_DATA_ROOT=data_root, PYTHONUNBUFFERED='1',
             OMP_NUM_THREADS='1', **extra)
    # configs import the test-only faults as tests.test_engine.fault_injection
    e['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO_ROOT, e.get('PYTHONPATH')) if p)
    e['PATH'] = BIN_DIR + os.pathsep + e.get('PATH', '')
    return e


def write_config(tmp_path, body: str, name: str = 'cfg.py') -> str:
    """A config in ``tmp_path`` that inherits the reliable smoke config."""
    path = tmp_path / name
    path.write_text(f'_base_ = [{RELIABLE_CONFIG!r}]\n' + body)
    return str(path)


def train_cmd(config: str, work_dir: str, *args: str) -> List[str]:
    return [sys.executable, TRAIN, config, '--work-dir', work_dir, *args]


def run(cmd: List[str], data_root: str, timeout: int = 300,
        **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=REPO_ROOT, env=env(data_root, **extra_env),
        capture_output=True, text=True, timeout=timeout)


def start_and_kill_when(cmd: List[str], data_root: str, path: str,
                        timeout: float = 300, **extra_env) -> str:
    """Start ``cmd``, SIGKILL it as soon as ``path`` exists; return its
    output. Fails if it exits first or ``timeout`` passes."""
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env(data_root, **extra_env),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + timeout
    try:
        while not osp.exists(path):
            if proc.poll() is not None:
                raise AssertionError(
                    f'process exited ({proc.returncode}) before {path} '
                    f'appeared:\n{proc.stdout.read()[-3000:]}')
            if time.time() > deadline:
                raise AssertionError(f'{path} did not appear in {timeout}s')
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    return out


def scalars(work_dir: str) -> List[dict]:
    """Every record of every scalars.json under ``work_dir`` (all runs)."""
    records = []
    for root, _, files in sorted(os.walk(work_dir)):
        for name in files:
            if name == 'scalars.json':
                with open(osp.join(root, name)) as f:
                    records += [json.loads(line) for line in f]
    return records


def load(path: str) -> dict:
    return torch.load(path, map_location='cpu')


def last_checkpoint(work_dir: str) -> Optional[str]:
    p = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(p):
        return None
    with open(p) as f:
        return f.read().strip()
