"""``NonFiniteLossHook``: stop training at the first NaN / inf loss, before
a checkpoint with the damaged weights is written."""
import math
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_gather_object, all_reduce, get_world_size
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """Raised by :class:`NonFiniteLossHook`."""


def _to_float(value) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean().item())
    return float(value)


def _sample_ids(data_batch) -> List[str]:
    """``img_id`` / ``img_path`` of every data sample in a batch."""
    samples = data_batch.get('data_samples', []) if isinstance(
        data_batch, dict) else []
    ids = []
    for sample in samples or []:
        meta = getattr(sample, 'metainfo', {}) or {}
        parts = [f'{key}={meta[key]}' for key in ('img_id', 'id', 'img_path')
                 if key in meta]
        ids.append(', '.join(parts) if parts else '<no id in metainfo>')
    return ids


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when a loss is NaN or infinite.

    It runs in ``after_train_iter`` with priority ``ABOVE_NORMAL``, i.e.
    before ``LoggerHook``, ``ParamSchedulerHook`` and ``CheckpointHook``
    (``VERY_LOW``), so the iteration whose update was computed from a
    non-finite loss never reaches a checkpoint file. The message names the
    iteration (1-based, as in the log and in ``iter_N.pth``), the bad loss
    terms, the ``img_id`` / ``img_path`` of every sample of the batch (all
    ranks) and the last good checkpoint (``work_dir/last_checkpoint``).

    With several processes the flag is all-reduced, so every rank stops at
    the same iteration (no rank is left waiting in a collective).

    Args:
        loss_keys (list[str], optional): Keys of the model's log vars to
            check. Defaults to every key containing ``'loss'``.

    Enable it in a config with::

        custom_hooks = [dict(type='NonFiniteLossHook')]
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, loss_keys: Optional[List[str]] = None) -> None:
        self.loss_keys = loss_keys

    def _bad_terms(self, outputs) -> Dict[str, float]:
        if not isinstance(outputs, dict):
            return {}
        keys = self.loss_keys or [k for k in outputs if 'loss' in k]
        values = {k: _to_float(outputs[k]) for k in keys if k in outputs}
        return {k: v for k, v in values.items() if not math.isfinite(v)}

    @staticmethod
    def last_good_checkpoint(runner) -> Optional[str]:
        """The path in ``work_dir/last_checkpoint``, or None."""
        path = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(path):
            with open(path) as f:
                return f.read().strip() or None
        return None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        bad = self._bad_terms(outputs)
        num_bad_ranks = torch.tensor([float(bool(bad))])
        all_reduce(num_bad_ranks, op='sum')  # no-op in a single process
        if num_bad_ranks.item() == 0:
            return

        ids = _sample_ids(data_batch)
        if get_world_size() > 1:
            per_rank = all_gather_object((ids, bad))
            ids = [f'rank {r}: {i}' for r, (rank_ids, _) in
                   enumerate(per_rank) for i in rank_ids]
            bad = {f'{k} (rank {r})': v for r, (_, rank_bad) in
                   enumerate(per_rank) for k, v in rank_bad.items()}
        last = self.last_good_checkpoint(runner)
        last_msg = (f'last good checkpoint: {last} (resume with '
                    f'`--resume {last}`)' if last else
                    'no checkpoint was saved before it')
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}): '
            + ', '.join(f'{k}={v}' for k, v in bad.items())
            + '; samples in the batch: [' + '; '.join(ids) + ']. '
            'Training stopped; no checkpoint was written from these '
            f'weights; {last_msg}.')
