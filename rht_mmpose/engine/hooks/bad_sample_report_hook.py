"""``BadSampleReportHook``: count the images that the data pipeline skipped
and report them once per epoch."""
from collections import Counter
from typing import Dict, List, Optional

from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


def skipped_records(data_batch) -> List[dict]:
    """The ``metainfo['skipped_images']`` records of every data sample."""
    samples = data_batch.get('data_samples', []) if isinstance(
        data_batch, dict) else []
    out = []
    for sample in samples or []:
        meta = getattr(sample, 'metainfo', {}) or {}
        out.extend(meta.get('skipped_images', []) or [])
    return out


@HOOKS.register_module()
class BadSampleReportHook(Hook):
    """Count bad images skipped by ``PairedReferenceDataset(
    skip_bad_images=True)`` and report them at the end of each epoch.

    The dataset lists every skip in the returned sample's
    ``metainfo['skipped_images']``, so the records reach this hook in the
    main process with the batch, whatever ``num_workers`` is (a counter in
    a dataloader worker would not). The hook logs a warning the first time
    it sees a file in the run, and at the end of each train / val / test
    epoch one line: ``N samples skipped for bad images (M files): ...``,
    summed over all ranks. With an iteration-based loop the train "epoch"
    is the whole run. Totals are kept in ``self.history`` (one dict per
    report) and in the message hub (``bad_samples/<mode>`` info).

    Args:
        max_listed (int): Files named in the epoch line. Defaults to 10.

    Enable it in a config with::

        custom_hooks = [dict(type='BadSampleReportHook')]
    """

    priority = 'LOW'

    def __init__(self, max_listed: int = 10) -> None:
        self.max_listed = max_listed
        self._records: Dict[str, List[dict]] = dict(train=[], val=[], test=[])
        self._seen = set()
        self.history: List[dict] = []

    def _collect(self, runner, mode: str, data_batch) -> None:
        for rec in skipped_records(data_batch):
            self._records[mode].append(rec)
            if rec.get('path') not in self._seen:
                self._seen.add(rec.get('path'))
                runner.logger.warning(
                    f'bad {rec.get("kind")} image skipped ({mode}): '
                    f'{rec.get("path")} is {rec.get("reason")}')

    def _report(self, runner, mode: str) -> Optional[dict]:
        local, self._records[mode] = self._records[mode], []
        records = [r for part in all_gather_object(local) for r in part]
        counts = Counter(r.get('path') for r in records)
        report = dict(
            mode=mode,
            epoch=getattr(runner, 'epoch', None),
            num_skipped=len(records),
            num_files=len(counts),
            files=dict(counts))
        self.history.append(report)
        hub = getattr(runner, 'message_hub', None)
        if hub is not None:
            hub.update_info(f'bad_samples/{mode}', report)
        if records:
            listed = ', '.join(
                f'{p} (x{n})' for p, n in counts.most_common(self.max_listed))
            more = len(counts) - self.max_listed
            runner.logger.warning(
                f'{mode} epoch {report["epoch"]}: {len(records)} sample(s) '
                f'skipped for bad images ({len(counts)} file(s)): {listed}'
                f'{f" and {more} more" if more > 0 else ""}')
        return report

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._collect(runner, 'train', data_batch)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._collect(runner, 'val', data_batch)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._collect(runner, 'test', data_batch)

    def after_train_epoch(self, runner) -> None:
        self._report(runner, 'train')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'test')
