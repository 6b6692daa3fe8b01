"""``AtomicCheckpointHook``: mmengine's ``CheckpointHook`` whose files are
never half-written."""
import os.path as osp
from typing import List, Optional

from mmengine.dist import all_reduce_params, is_distributed, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmpose.registry import HOOKS

from rht_mmpose.utils.io import (atomic_write_bytes, atomic_write_text,
                                 remove_stale_tmp_files)

ATOMIC_BACKEND = 'rht_atomic_local'


@register_backend(ATOMIC_BACKEND, force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` whose ``put`` / ``put_text`` write a temp
    file in the same directory and ``os.replace`` it onto the final name
    (:func:`rht_mmpose.utils.io.atomic_write_bytes`)."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_text(obj, str(filepath), encoding=encoding)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that survives SIGKILL at any instant.

    What differs from mmengine's ``CheckpointHook`` (all arguments are the
    same):

    1. Checkpoints (periodic, last and best) are written through
       :class:`AtomicLocalBackend`: temp file + ``fsync`` + ``os.replace``,
       so ``iter_N.pth`` is either absent or complete.
    2. ``work_dir/last_checkpoint`` is replaced atomically as well, and only
       after the checkpoint it names is complete.
    3. With ``max_keep_ckpts``, the outdated checkpoint is deleted *after*
       the new one and ``last_checkpoint`` are written (mmengine deletes it
       first, so a kill in between leaves ``last_checkpoint`` naming a
       deleted file).
    4. ``before_train`` deletes temp files a killed run left in ``out_dir``.
    5. With several processes and ``sync_buffers=True``, the model buffers
       (BatchNorm running statistics) are averaged over the ranks before
       saving, as ``SyncBuffersHook`` does before validation; otherwise the
       checkpoint holds rank 0's statistics while validation used the
       average, and ``tools/test.py`` on it would not reproduce the
       validation metric.

    Args:
        sync_buffers (bool): See 5. Defaults to True.
        *args, **kwargs: As for ``CheckpointHook``.

    Only local ``out_dir`` paths are made atomic; with a URI ``out_dir``
    (``s3://...``) or explicit ``backend_args`` it behaves as
    ``CheckpointHook``.

    Enable it in a config with::

        default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook',
                                             interval=1))
    """

    def __init__(self,
                 *args,
                 out_dir: Optional[str] = None,
                 file_client_args: Optional[dict] = None,
                 backend_args: Optional[dict] = None,
                 sync_buffers: bool = True,
                 **kwargs) -> None:
        self.sync_buffers = sync_buffers
        self._atomic = (backend_args is None and file_client_args is None
                        and (out_dir is None or '://' not in str(out_dir)))
        if self._atomic:
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, out_dir=out_dir,
                         file_client_args=file_client_args,
                         backend_args=backend_args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._atomic and is_main_process():
            for path in remove_stale_tmp_files(self.out_dir):
                runner.logger.warning(
                    f'removed {path}, an unfinished checkpoint write of an '
                    f'interrupted run')

    def _save_checkpoint_with_step(self, runner, step, meta):
        # mmengine 0.10.7 has no public point between writing a checkpoint,
        # writing last_checkpoint and pruning old ones: this restates its
        # CheckpointHook._save_checkpoint_with_step with 2., 3. and 5. above
        outdated: List[int] = []
        if self.max_keep_ckpts > 0:
            if not (len(self.keep_ckpt_ids) > 0
                    and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    outdated.append(self.keep_ckpt_ids.popleft())
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        if self.sync_buffers and is_distributed():
            all_reduce_params(runner.model.buffers(), op='mean')

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

        if not is_main_process():
            return

        atomic_write_text(self.last_ckpt,
                          osp.join(runner.work_dir, 'last_checkpoint'))

        for old_step in outdated:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
