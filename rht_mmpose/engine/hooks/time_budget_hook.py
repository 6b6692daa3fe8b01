"""``TimeBudgetHook``: fit the number of epochs (and the schedule) to a
wall-clock budget, measured on the run's own first epoch."""
import math
import time
from typing import Optional

from mmengine.dist import broadcast_object_list
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


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

    Args:
        budget_s (float): seconds for the whole training loop
        measure_epochs (int): epochs timed before deciding. Defaults to 1
        reserve_s (float): seconds kept free at the end. Defaults to 0
        max_epochs_cap (int, optional): upper bound of the new max_epochs.
            Defaults to the config's max_epochs

    Example::

        custom_hooks = [dict(type='TimeBudgetHook', budget_s=420)]
    """

    priority = 'NORMAL'

    def __init__(self,
                 budget_s: float,
                 measure_epochs: int = 1,
                 reserve_s: float = 0.,
                 max_epochs_cap: Optional[int] = None):
        if not budget_s > 0:
            raise ValueError(f'budget_s is {budget_s!r}, expected > 0')
        if int(measure_epochs) != measure_epochs or measure_epochs < 1:
            raise ValueError(
                f'measure_epochs is {measure_epochs!r}, expected an int >= 1')
        if reserve_s < 0:
            raise ValueError(f'reserve_s is {reserve_s!r}, expected >= 0')
        self.budget_s = float(budget_s)
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
        left = self.budget_s - self.reserve_s - (now - self._t_train)
        more = max(0, math.floor(left / max(self._slowest_epoch_s, 1e-9)))
        decision = [max(done, min(cap, done + more))]
        broadcast_object_list(decision, src=0)
        new_max = int(decision[0])
        self.decided_max_epochs = new_max
        runner.logger.info(
            f'TimeBudgetHook: {self._slowest_epoch_s:.1f} s per epoch, '
            f'{left:.0f} s of the {self.budget_s:.0f} s budget left after '
            f'{done} epochs -> max_epochs {old_max} -> {new_max}')
        if new_max == old_max:
            return
        iters_per_epoch = loop._max_iters // old_max
        loop._max_epochs = new_max
        loop._max_iters = new_max * iters_per_epoch
        self._stretch_schedulers(runner, old_max, new_max, iters_per_epoch)

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
