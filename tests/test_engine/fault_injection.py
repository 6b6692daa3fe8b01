"""Test-only faults for training subprocesses, imported through
``custom_imports = dict(imports=['rht_mmpose',
'tests.test_engine.fault_injection'])`` (tools/train.py puts the repo root
on ``sys.path``).

- ``NaNFromCallLoss``: mmpose's ``KeypointMSELoss`` whose value is NaN from
  its ``nan_from``-th call on (1-based), i.e. from training iteration
  ``nan_from`` for a model with one loss module.
- ``RHT_TEST_STALL_WRITE=<checkpoint file name>`` (with
  ``RHT_TEST_STALL_MARKER=<path>``): the atomic write of that checkpoint
  writes half its bytes to the temp file, creates the marker file and
  sleeps, so the test can SIGKILL the process in the middle of the write.
"""
import os
import os.path as osp
import time

from mmpose.models.losses import KeypointMSELoss
from mmpose.registry import MODELS


@MODELS.register_module()
class NaNFromCallLoss(KeypointMSELoss):
    """``KeypointMSELoss`` that returns NaN from call ``nan_from`` on."""

    def __init__(self, nan_from: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.nan_from = nan_from
        self.calls = 0

    def forward(self, *args, **kwargs):
        self.calls += 1
        loss = super().forward(*args, **kwargs)
        if self.calls >= self.nan_from:
            loss = loss * float('nan')
        return loss


class _HalfThenStall:
    """File wrapper: the first ``write`` writes half the bytes, then stalls."""

    def __init__(self, f, marker: str) -> None:
        self._f = f
        self._marker = marker

    def write(self, data) -> int:
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        os.fsync(self._f.fileno())
        with open(self._marker, 'w') as m:
            m.write(os.readlink(f'/proc/self/fd/{self._f.fileno()}'))
        time.sleep(600)
        raise AssertionError('the test should have killed this process')

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


class _OsStallingFdopen:
    """Stands in for ``os`` inside ``rht_mmpose.utils.checkpoint``."""

    def __init__(self, target: str, marker: str) -> None:
        self._target = target
        self._marker = marker

    def fdopen(self, fd, *args, **kwargs):
        f = os.fdopen(fd, *args, **kwargs)
        name = osp.basename(os.readlink(f'/proc/self/fd/{fd}'))
        if name.startswith('.' + self._target + '.'):
            return _HalfThenStall(f, self._marker)
        return f

    def __getattr__(self, name):
        return getattr(os, name)


if os.environ.get('RHT_TEST_STALL_WRITE'):
    import rht_mmpose.utils.checkpoint as _checkpoint_module
    _checkpoint_module.os = _OsStallingFdopen(
        os.environ['RHT_TEST_STALL_WRITE'],
        os.environ['RHT_TEST_STALL_MARKER'])
