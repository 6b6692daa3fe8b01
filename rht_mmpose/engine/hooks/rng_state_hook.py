"""``RNGStateHook``: save the random generators' state in checkpoints and
restore it on resume."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

RNG_META_KEY = 'rng_state'


def get_rng_state() -> dict:
    """State of Python's, numpy's and torch's global generators (CUDA ones
    too when CUDA is initialised), in types that
    ``torch.load(weights_only=True)`` accepts (tensors, lists, numbers,
    strings)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=list(random.getstate()),
        numpy=[kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(cached)],
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state`."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos,
                         has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if ('cuda' in state and torch.cuda.is_available()
            and len(state['cuda']) == torch.cuda.device_count()):
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreAfterSkip:
    """Wraps ``IterBasedTrainLoop.dataloader_iterator``: on a resume the loop
    first re-reads the ``skip`` batches already trained on (each new
    DataLoader iterator draws its base seed from the global torch RNG), then
    fetches the first new batch. The saved state is set right before that
    fetch, where the uninterrupted run stood when it saved the checkpoint."""

    def __init__(self, loop, inner, skip: int, state: dict, logger) -> None:
        self._loop, self._inner = loop, inner
        self._skip, self._state, self._logger = skip, state, logger
        self._calls = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._calls == self._skip:
            set_rng_state(self._state)
            self._loop.dataloader_iterator = self._inner  # unwrap
            self._logger.info('restored the random generators\' state '
                              'saved in the resumed checkpoint')
        self._calls += 1
        return next(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run draw the same random numbers as an uninterrupted
    one.

    mmengine's resume restores the iteration, optimizer, schedulers and
    message hub, and re-seeds only when the checkpoint's seed differs from
    the config's; the global generators (Python ``random``, numpy, torch,
    CUDA) restart from the seed, not from where the run was. This hook
    stores their state in ``checkpoint['meta']['rng_state']``
    (``before_save_checkpoint``) and restores it after a resume at the
    point where the uninterrupted run stood when it saved:

    - iteration-based loop: after mmengine has re-read the batches already
      trained on, right before the first new batch is fetched;
    - epoch-based loop: in ``before_train``, before the next epoch's data
      iterator is made.

    Exact unless validation ran between the checkpoint and the next
    training batch (a validation data loader also draws from the torch
    RNG; the resumed run does not repeat that validation).

    Only rank 0 writes checkpoints, so rank 0's state is saved and every
    rank restores it; this is exact with mmengine's default
    ``randomness=dict(diff_rank_seed=False)`` (all ranks share one seed).
    ``load_from`` (fine-tuning, testing) leaves the generators alone.

    Enable it in a config with::

        custom_hooks = [dict(type='RNGStateHook')]
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[RNG_META_KEY] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from (fine-tuning, testing): keep the seed's RNG
        state = checkpoint.get('meta', {}).get(RNG_META_KEY)
        if state is None:
            runner.logger.warning(
                'the checkpoint has no rng_state (written without '
                'RNGStateHook); random generators start from the seed')
        self._pending = state

    def before_train(self, runner) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        loop = runner.train_loop
        inner = getattr(loop, 'dataloader_iterator', None)
        if inner is not None:
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, inner, loop.iter, state, runner.logger)
        else:
            set_rng_state(state)
            runner.logger.info('restored the random generators\' state '
                               'saved in the resumed checkpoint')
