"""rht_mmpose.utils.checkpoint: atomic writes, restricted loading,
keypoint-count check."""
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from mmengine.fileio.backends import local_backend as mmengine_local_backend
from mmengine.logging import HistoryBuffer

import rht_mmpose.utils.io as io_mod
from rht_mmpose.engine import AtomicLocalBackend
from rht_mmpose.utils import (atomic_write_bytes, load_checkpoint_safe,
                              remove_stale_tmp_files)


class _Killed(BaseException):
    """Stands for the process dying in the middle of a write."""


class _HalfWriteThenDie:

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        raise _Killed()

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def _mmengine_like_checkpoint():
    hub = HistoryBuffer()
    hub.update(0.5)
    return dict(
        meta=dict(iter=2, dataset_meta=dict(sigmas=np.ones(3))),
        state_dict={'head.final_layer.weight': torch.ones(2, 1, 1, 1)},
        message_hub=dict(log_scalars={'train/loss': hub}))


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_atomic_write_replaces_whole_file(tmp_path):
    path = str(tmp_path / 'a.pth')
    atomic_write_bytes(b'old', path)
    atomic_write_bytes(b'new content', path)
    with open(path, 'rb') as f:
        assert f.read() == b'new content'
    assert os.listdir(tmp_path) == ['a.pth']


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'iter_4.pth')
    AtomicLocalBackend().put(b'complete old checkpoint', path)

    real_open = open
    monkeypatch.setattr(
        io_mod, 'open',
        lambda *a, **k: _HalfWriteThenDie(real_open(*a, **k)),
        raising=False)
    with pytest.raises(_Killed):
        AtomicLocalBackend().put(b'x' * 1000, path)
    with open(path, 'rb') as f:
        assert f.read() == b'complete old checkpoint'


def test_mmengine_local_backend_truncates_on_interrupted_write(
        tmp_path, monkeypatch):
    """The failure AtomicLocalBackend prevents: mmengine writes in place."""
    path = str(tmp_path / 'iter_4.pth')
    real_open = open
    monkeypatch.setattr(
        mmengine_local_backend, 'open',
        lambda *a, **k: _HalfWriteThenDie(real_open(*a, **k)),
        raising=False)
    with pytest.raises(_Killed):
        mmengine_local_backend.LocalBackend().put(b'x' * 1000, path)
    assert os.path.getsize(path) == 500


def test_remove_stale_tmp_files(tmp_path):
    (tmp_path / '.iter_4.pth.abc123.tmp').write_bytes(b'partial')
    (tmp_path / 'iter_2.pth').write_bytes(b'ok')
    removed = remove_stale_tmp_files(str(tmp_path))
    assert [os.path.basename(p) for p in removed] == ['.iter_4.pth.abc123.tmp']
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_load_plain_state_dict_without_warning(tmp_path):
    path = str(tmp_path / 'w.pth')
    torch.save({'state_dict': {'a': torch.arange(3.)}}, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ckpt = load_checkpoint_safe(path)
    assert not [w for w in caught if 'weights_only' in str(w.message)]
    assert torch.equal(ckpt['state_dict']['a'], torch.arange(3.))


def test_load_mmengine_checkpoint(tmp_path):
    path = str(tmp_path / 'iter_2.pth')
    torch.save(_mmengine_like_checkpoint(), path)
    if hasattr(torch.serialization, 'add_safe_globals'):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            ckpt = load_checkpoint_safe(path)
        assert not [w for w in caught if 'weights_only' in str(w.message)]
    else:
        with pytest.warns(UserWarning, match='weights_only=False'):
            ckpt = load_checkpoint_safe(path)
        with pytest.raises(pickle.UnpicklingError):
            load_checkpoint_safe(path, allow_unsafe_fallback=False)
    assert ckpt['meta']['iter'] == 2
    hub = ckpt['message_hub']['log_scalars']['train/loss']
    assert hub.current() == 0.5


def test_arbitrary_pickled_code_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'x': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint_safe(path, allow_unsafe_fallback=False)


def test_truncated_checkpoint_names_path(tmp_path):
    path = str(tmp_path / 'iter_4.pth')
    torch.save({'state_dict': {'a': torch.zeros(1000)}}, path)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match='iter_4.pth.*truncated'):
        load_checkpoint_safe(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_safe(str(tmp_path / 'nope.pth'))
