"""``TimeBudgetHook``: fit the number of epochs (and the schedule) to a
wall-clock budget, measured on the run's own first epoch."""
import json
import math
import os.path as osp
import time
from typing import Optional

from mmengine.dist import broadcast_object_list
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from rht_mmpose.utils import atomic_write_text


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Shorten (or lengthen) an epoch-based run so it ends within
    ``budget_s`` seconds of ``before_train``.

    After ``measure_epochs`` epochs the hook takes the slowest of them as
    the epoch time and sets ``max_epochs`` to the epochs done plus as many
    more as fit in what is left of the budget (less ``reserve_s`` for the
    final checkpoint), never above ``max_epochs_cap`` (default: the config's
    ``max_epochs``) and never below the epochs already done. Every
    parameter scheduler that ended at the old last epoch (or iteration) is
    stretched to end at the new one, its ``T_max`` (cosine) too, so the
    schedule is the one a config with the new max_epochs would run. This
    replaces a separate timing probe: the whole budget trains the model
    that is kept.

    Rank 0 decides and broadcasts, so all ranks stop at the same epoch. The
    hook runs before ``ParamSchedulerHook`` in ``after_train_epoch``, so the
    epoch's scheduler step already uses the new length. The budget counts
    from this process's ``before_train`` (a resumed run gets a new budget).

    Two runs that must train the same number of epochs (an identical-budget
    comparison run side by side) share one decision: the slower run writes
    it to ``decision_file`` and the other, given ``follow_file`` (the same
    path) instead of a budget, waits after its first epoch for that file
    and adopts its ``max_epochs``.

    Args:
        budget_s (float, optional): seconds for the whole training loop;
            needed unless ``follow_file`` is given
        measure_epochs (int): epochs timed before deciding. Defaults to 1
        reserve_s (float): seconds kept free at the end. Defaults to 0
        max_epochs_cap (int, optional): upper bound of the new max_epochs.
            Defaults to the config's max_epochs
        decision_file (str, optional): json written (atomically, rank 0)
            with the decided ``max_epochs``
        follow_file (str, optional): take ``max_epochs`` from this json
            (written by another run's ``decision_file``) instead of timing
        follow_timeout_s (float): how long to wait for ``follow_file``.
            Defaults to 3600

    Example::

        custom_hooks = [dict(type='TimeBudgetHook', budget_s=420)]
    """

    priority = 'NORMAL'

    def __init__(self,
                 budget_s: Optional[float] = None,
                 measure_epochs: int = 1,
                 reserve_s: float = 0.,
                 max_epochs_cap: Optional[int] = None,
                 decision_file: Optional[str] = None,
                 follow_file: Optional[str] = None,
                 follow_timeout_s: float = 3600.):
        if follow_file is None and not (budget_s is not None
                                        and budget_s > 0):
            raise ValueError(f'budget_s is {budget_s!r}, expected > 0 '
                             '(or a follow_file)')
        if int(measure_epochs) != measure_epochs or measure_epochs < 1:
            raise ValueError(
                f'measure_epochs is {measure_epochs!r}, expected an int >= 1')
        if reserve_s < 0:
            raise ValueError(f'reserve_s is {reserve_s!r}, expected >= 0')
        self.budget_s = float(budget_s or 0.)
        self.decision_file = decision_file
        self.follow_file = follow_file
        self.follow_timeout_s = float(follow_timeout_s)
        self.measure_epochs = int(measure_epochs)
        self.reserve_s = float(reserve_s)
        self.max_epochs_cap = max_epochs_cap
        self.clock = time.monotonic  # replaceable in tests
        self.decided_max_epochs: Optional[int] = None
        self._t_train = 0.
        self._t_epoch = 0.
        self._slowest_epoch_s = 0.
        self._epochs_timed = 0

    def before_train(self, runner) -> None:
        self._t_train = self.clock()
        if not hasattr(runner.train_loop, '_max_epochs'):
            raise TypeError(
                f'TimeBudgetHook needs an epoch-based train loop, got '
                f'{type(runner.train_loop).__name__}')

    def before_train_epoch(self, runner) -> None:
        self._t_epoch = self.clock()

    def after_train_epoch(self, runner) -> None:
        if self.decided_max_epochs is not None:
            return
        now = self.clock()
        self._slowest_epoch_s = max(self._slowest_epoch_s,
                                    now - self._t_epoch)
        self._epochs_timed += 1
        if self._epochs_timed < self.measure_epochs:
            return
        loop = runner.train_loop
        done = runner.epoch + 1  # the epoch counter moves after this hook
        old_max = loop._max_epochs
        cap = old_max if self.max_epochs_cap is None else self.max_epochs_cap
        if self.follow_file is not None:
            target = self._wait_for_decision()
            why = f'{self.follow_file} says {target}'
        else:
            left = self.budget_s - self.reserve_s - (now - self._t_train)
            target = done + max(
                0, math.floor(left / max(self._slowest_epoch_s, 1e-9)))
            why = (f'{self._slowest_epoch_s:.1f} s per epoch, {left:.0f} s '
                   f'of the {self.budget_s:.0f} s budget left')
        decision = [max(done, min(cap, target))]
        broadcast_object_list(decision, src=0)
        new_max = int(decision[0])
        self.decided_max_epochs = new_max
        runner.logger.info(f'TimeBudgetHook: {why} after {done} epochs -> '
                           f'max_epochs {old_max} -> {new_max}')
        if self.decision_file is not None and runner.rank == 0:
            atomic_write_text(
                json.dumps(dict(max_epochs=new_max)), self.decision_file)
        if new_max == old_max:
            return
        iters_per_epoch = loop._max_iters // old_max
        loop._max_epochs = new_max
        loop._max_iters = new_max * iters_per_epoch
        self._stretch_schedulers(runner, old_max, new_max, iters_per_epoch)

    def _wait_for_decision(self) -> int:
        deadline = self.clock() + self.follow_timeout_s
        while True:
            if osp.exists(self.follow_file):
                with open(self.follow_file) as f:
                    return int(json.load(f)['max_epochs'])
            if self.clock() > deadline:
                raise TimeoutError(
                    f'TimeBudgetHook: {self.follow_file} did not appear '
                    f'within {self.follow_timeout_s:.0f} s')
            time.sleep(1.)

    @staticmethod
    def _stretch_schedulers(runner, old_max: int, new_max: int,
                            iters_per_epoch: int) -> None:
        """Move the end (and cosine T_max) of every scheduler that ended at
        the old last epoch / iteration."""
        schedulers = runner.param_schedulers
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        for sched in schedulers or []:
            unit = 1 if sched.by_epoch else iters_per_epoch
            old_end, new_end = old_max * unit, new_max * unit
            if sched.end != old_end:
                continue  # warm-up or a schedule ending earlier: unchanged
            sched.end = new_end
            if getattr(sched, 'T_max', None) == old_end - sched.begin:
                sched.T_max = new_end - sched.begin
