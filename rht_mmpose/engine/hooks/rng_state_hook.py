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
    if 'cuda' in state and torch.cuda.is_available():
        cuda_states = state['cuda']
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run draw the same random numbers as an uninterrupted
    one.

    mmengine's resume restores the iteration, optimizer, schedulers and
    message hub, and re-seeds only when the checkpoint's seed differs from
    the config's; the global generators (Python ``random``, numpy, torch,
    CUDA) restart from the seed, not from where the run was. This hook
    stores their state in ``checkpoint['meta']['rng_state']``
    (``before_save_checkpoint``) and, after a resume, restores it in the
    first ``before_train_iter``: from the first resumed iteration on, the
    model-side draws (dropout, random reference choice in the model) are
    those of the uninterrupted run. The resumed run's first batch is
    already loaded by then (mmengine fetches it before that hook), so
    data-pipeline draws of that one batch still come from the re-seeded
    state.

    Only rank 0 writes checkpoints, so rank 0's state is saved and every
    rank restores it; this is exact with mmengine's default
    ``randomness=dict(diff_rank_seed=False)`` (all ranks share one seed).

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

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self._pending is not None:
            set_rng_state(self._pending)
            self._pending = None
            runner.logger.info('restored the random generators\' state '
                               'saved in the resumed checkpoint')
