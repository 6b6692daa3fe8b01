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


def _stalling_open(target: str, marker: str):
    """Stands in for ``open`` inside ``rht_mmpose.utils.io``: the temp file
    of ``target``'s atomic write stalls half-way."""
    real_open = open

    def fake_open(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if 'w' in mode and osp.basename(path).startswith('.' + target + '.'):
            return _HalfThenStall(f, marker)
        return f

    return fake_open


if os.environ.get('RHT_TEST_STALL_WRITE'):
    import rht_mmpose.utils.io as _io_module
    _io_module.open = _stalling_open(os.environ['RHT_TEST_STALL_WRITE'],
                                     os.environ['RHT_TEST_STALL_MARKER'])
