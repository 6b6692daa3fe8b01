"""Unit tests of the reliability hooks with a stand-in runner; the
training-run tests are in test_non_finite_loss_train.py and
tests/test_tools/test_resume.py."""
import random
from collections import deque
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.runner import get_priority
from mmengine.structures import BaseDataElement
from mmpose.registry import HOOKS

from rht_mmpose.engine import (AtomicCheckpointHook, NonFiniteLossError,
                               NonFiniteLossHook, RNGStateHook)


def _runner(work_dir, it=4, resume=True):
    logs = []
    logger = SimpleNamespace(info=logs.append, warning=logs.append)
    return SimpleNamespace(work_dir=str(work_dir), iter=it, epoch=0,
                           logger=logger, _resume=resume, logs=logs)


def _batch(*paths):
    samples = []
    for i, p in enumerate(paths):
        s = BaseDataElement()
        s.set_metainfo(dict(img_id=100 + i, img_path=p))
        samples.append(s)
    return dict(inputs=[], data_samples=samples)


def test_hooks_are_registered():
    for name in ('AtomicCheckpointHook', 'NonFiniteLossHook', 'RNGStateHook'):
        assert HOOKS.get(name) is not None, name


def test_non_finite_loss_runs_before_checkpoint_hook():
    assert get_priority(NonFiniteLossHook.priority) < get_priority(
        CheckpointHook.priority)


def test_finite_loss_passes(tmp_path):
    NonFiniteLossHook().after_train_iter(
        _runner(tmp_path), 0, _batch('a.png'),
        dict(loss=torch.tensor(0.3), loss_kpt=torch.tensor(0.3),
             acc_pose=torch.tensor(float('nan'))))


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_loss_message(tmp_path, bad):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    with pytest.raises(NonFiniteLossError) as e:
        NonFiniteLossHook().after_train_iter(
            _runner(tmp_path, it=4), 0, _batch('x/a.png', 'x/b.png'),
            dict(loss=torch.tensor(bad), loss_kpt=torch.tensor(bad)))
    msg = str(e.value)
    assert 'iteration 5' in msg
    assert 'x/a.png' in msg and 'x/b.png' in msg
    assert 'img_id=100' in msg and 'img_id=101' in msg
    assert f'last good checkpoint: {tmp_path / "iter_4.pth"}' in msg
    assert f'loss_kpt={bad}' in msg


def test_non_finite_loss_before_any_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match='no checkpoint was saved'):
        NonFiniteLossHook().after_train_iter(
            _runner(tmp_path, it=0), 0, _batch('a.png'),
            dict(loss=torch.tensor(float('nan'))))


def test_loss_keys_restricts_the_check(tmp_path):
    hook = NonFiniteLossHook(loss_keys=['loss'])
    hook.after_train_iter(_runner(tmp_path), 0, _batch('a.png'),
                          dict(loss=torch.tensor(1.), loss_aux=float('nan')))


def _draw():
    return (random.random(), float(np.random.rand()),
            float(torch.rand(1)))


class _Loop:
    """Stand-in for IterBasedTrainLoop: ``iter`` done, an iterator whose
    creation of each batch draws from the torch RNG like a DataLoader."""

    def __init__(self, it):
        self.iter = it
        self.dataloader_iterator = iter(self._batches())

    @staticmethod
    def _batches():
        while True:
            yield float(torch.empty((), dtype=torch.int64).random_())


def _seed(s):
    random.seed(s), np.random.seed(s), torch.manual_seed(s)


def test_rng_state_round_trip_through_weights_only_load(tmp_path):
    """Uninterrupted: 2 iterations, save, fetch + draw. Resumed: re-seed,
    re-read 2 batches, fetch + draw -> the same numbers."""
    hook = RNGStateHook()
    _seed(1)
    loop = _Loop(0)
    next(loop.dataloader_iterator), _draw()
    next(loop.dataloader_iterator), _draw()
    checkpoint = dict(meta={})
    hook.before_save_checkpoint(_runner(tmp_path), checkpoint)
    expected = [(next(loop.dataloader_iterator), _draw()) for _ in range(2)]
    # the saved state is made of types the restricted unpickler accepts
    torch.save(checkpoint, tmp_path / 'c.pth')
    loaded = torch.load(tmp_path / 'c.pth', weights_only=True)

    _seed(7)  # the resumed process starts from a seed
    runner = _runner(tmp_path, resume=True)
    runner.train_loop = _Loop(2)
    hook.after_load_checkpoint(runner, loaded)
    hook.before_train(runner)
    for _ in range(2):  # mmengine skips the batches already trained on
        next(runner.train_loop.dataloader_iterator)
    got = [(next(runner.train_loop.dataloader_iterator), _draw())
           for _ in range(2)]
    assert got == expected
    assert isinstance(runner.train_loop.dataloader_iterator, type(
        loop.dataloader_iterator))  # unwrapped after the restore


def test_rng_state_epoch_loop_restored_in_before_train(tmp_path):
    hook = RNGStateHook()
    checkpoint = dict(meta={})
    hook.before_save_checkpoint(_runner(tmp_path), checkpoint)
    expected = _draw()
    _seed(3)
    runner = _runner(tmp_path, resume=True)
    runner.train_loop = SimpleNamespace(iter=4)  # no dataloader_iterator
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train(runner)
    assert _draw() == expected


def test_rng_state_not_restored_for_load_from(tmp_path):
    hook = RNGStateHook()
    checkpoint = dict(meta={})
    hook.before_save_checkpoint(_runner(tmp_path), checkpoint)
    first = _draw()
    runner = _runner(tmp_path, resume=False)
    runner.train_loop = SimpleNamespace(iter=0)
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train(runner)
    assert _draw() != first


def test_rng_state_missing_warns(tmp_path):
    runner = _runner(tmp_path)
    RNGStateHook().after_load_checkpoint(runner, dict(meta={}))
    assert any('no rng_state' in m for m in runner.logs)


def test_atomic_checkpoint_hook_uses_atomic_backend(tmp_path):
    hook = AtomicCheckpointHook(interval=1)
    assert hook.backend_args == dict(backend='rht_atomic_local')
    # a remote out_dir keeps mmengine's behaviour
    remote = AtomicCheckpointHook(interval=1, out_dir='s3://bucket/x')
    assert remote.backend_args is None


def test_atomic_checkpoint_hook_deletes_outdated_only_after_saving(tmp_path):
    """mmengine deletes the outdated checkpoint before writing the new one;
    a kill in between leaves last_checkpoint naming a deleted file."""
    from mmengine.logging import MessageHub
    seen = []

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        # state of the work dir at the moment the new file is written
        seen.append((filename, sorted(p.name for p in tmp_path.iterdir())))
        (tmp_path / filename).write_bytes(b'ckpt')

    runner = _runner(tmp_path)
    runner.save_checkpoint = save_checkpoint
    runner.message_hub = MessageHub.get_instance('test_atomic_order')
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.out_dir = str(tmp_path)
    from rht_mmpose.engine import AtomicLocalBackend
    hook.file_backend = AtomicLocalBackend()
    hook.keep_ckpt_ids = deque(maxlen=1)  # what before_train sets up
    hook._save_checkpoint_with_step(runner, 1, dict(iter=1))
    hook._save_checkpoint_with_step(runner, 2, dict(iter=2))
    assert seen[1] == ('iter_2.pth', ['iter_1.pth', 'last_checkpoint'])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'iter_2.pth', 'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'iter_2.pth')
