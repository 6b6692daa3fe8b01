"""TimeBudgetHook with real mmengine schedulers, a stand-in loop and a
fake clock: the epoch count fitted to the budget and the cosine schedule
stretched to end on the new last epoch."""
import json
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import ParamSchedulerHook
from mmengine.optim import CosineAnnealingLR, LinearLR
from mmengine.runner import get_priority

from rht_mmpose.engine import TimeBudgetHook


class FakeClock:

    def __init__(self):
        self.now = 0.

    def __call__(self):
        return self.now


def make_runner(max_epochs=60, iters_per_epoch=10, base_lr=1e-3,
                eta_min=1e-5):
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.SGD([param], lr=base_lr)
    warmup = LinearLR(optim, start_factor=0.1, begin=0, end=5,
                      by_epoch=False)
    cosine = CosineAnnealingLR(optim, T_max=max_epochs, begin=0,
                               end=max_epochs, eta_min=eta_min,
                               by_epoch=True)
    loop = SimpleNamespace(_max_epochs=max_epochs,
                           _max_iters=max_epochs * iters_per_epoch)
    logs = []
    return SimpleNamespace(
        train_loop=loop, epoch=0, param_schedulers=[warmup, cosine],
        optim=optim, logger=SimpleNamespace(info=logs.append), logs=logs)


def run_epochs(hook, runner, clock, epoch_s, n, schedulers_step=True):
    """n epochs of epoch_s seconds: hook, then the cosine's epoch step,
    then the epoch counter, as EpochBasedTrainLoop does."""
    lrs = []
    for _ in range(n):
        hook.before_train_epoch(runner)
        clock.now += epoch_s
        hook.after_train_epoch(runner)
        if schedulers_step:
            for sched in runner.param_schedulers:
                if sched.by_epoch:
                    sched.step()
        lrs.append(runner.optim.param_groups[0]['lr'])
        runner.epoch += 1
    return lrs


def test_runs_before_the_scheduler_hook():
    assert get_priority(TimeBudgetHook.priority) < get_priority(
        ParamSchedulerHook.priority)


def test_epochs_fitted_to_the_budget_and_cosine_stretched():
    runner = make_runner(max_epochs=60)
    hook = TimeBudgetHook(budget_s=100, reserve_s=4)
    clock = hook.clock = FakeClock()
    clock.now = 1000.
    hook.before_train(runner)
    clock.now += 3.  # start-up before the first epoch
    base = runner.optim.param_groups[0]['lr']  # warm-up's start value
    # first epoch 7 s: 100 - 4 - 10 = 86 s left -> 12 more -> 13 epochs
    lrs = run_epochs(hook, runner, clock, 7., 1)
    assert hook.decided_max_epochs == 13
    assert runner.train_loop._max_epochs == 13
    assert runner.train_loop._max_iters == 130
    warmup, cosine = runner.param_schedulers
    assert (cosine.end, cosine.T_max) == (13, 13)
    assert warmup.end == 5  # the warm-up is left alone
    lrs += run_epochs(hook, runner, clock, 7., 12)
    # closed-form cosine over 13 epochs from the lr it started from (the
    # iteration warm-up is not stepped here)
    # (mmengine steps a scheduler while last_step < end: the step that
    # reaches end=13 changes nothing, as in an unmodified 13-epoch run)
    for e, lr in enumerate(lrs[:12], start=1):
        expected = 1e-5 + (base - 1e-5) * (1 + math.cos(math.pi * e / 13)) / 2
        assert lr == pytest.approx(expected, rel=1e-9, abs=1e-12), e
    assert lrs[12] == lrs[11]
    assert lrs[11] < 1.2e-5  # near eta_min, as a 13-epoch cosine ends
    assert clock.now - 1000. <= 100 - 4


def test_never_below_epochs_done_nor_above_the_cap():
    runner = make_runner(max_epochs=60)
    hook = TimeBudgetHook(budget_s=10, measure_epochs=2)
    clock = hook.clock = FakeClock()
    hook.before_train(runner)
    run_epochs(hook, runner, clock, 8., 2)  # 16 s already: over budget
    assert runner.train_loop._max_epochs == 2
    assert runner.param_schedulers[1].T_max == 2

    runner = make_runner(max_epochs=60)
    hook = TimeBudgetHook(budget_s=1e6, max_epochs_cap=80)
    hook.clock = FakeClock()
    hook.before_train(runner)
    run_epochs(hook, runner, hook.clock, 1., 1)
    assert runner.train_loop._max_epochs == 80
    assert runner.param_schedulers[1].end == 80
    assert 'max_epochs 60 -> 80' in runner.logs[-1]


def test_iteration_based_scheduler_is_stretched_in_iterations():
    runner = make_runner(max_epochs=20, iters_per_epoch=10)
    optim = runner.optim
    by_iter = CosineAnnealingLR(optim, T_max=200, begin=0, end=200,
                                eta_min=0., by_epoch=False)
    runner.param_schedulers = [by_iter]
    hook = TimeBudgetHook(budget_s=50)
    hook.clock = FakeClock()
    hook.before_train(runner)
    run_epochs(hook, runner, hook.clock, 10., 1, schedulers_step=False)
    assert runner.train_loop._max_epochs == 5
    assert (by_iter.end, by_iter.T_max) == (50, 50)


def test_follower_adopts_the_leaders_decision(tmp_path):
    decision = str(tmp_path / 'budget' / 'decision.json')
    leader = make_runner(max_epochs=60)
    leader.rank = 0
    hook = TimeBudgetHook(budget_s=100, reserve_s=4, decision_file=decision)
    hook.clock = FakeClock()
    hook.before_train(leader)
    hook.clock.now += 3.
    run_epochs(hook, leader, hook.clock, 7., 1)
    assert leader.train_loop._max_epochs == 13

    follower = make_runner(max_epochs=60, iters_per_epoch=4)
    follower.rank = 0
    hook = TimeBudgetHook(follow_file=decision)
    hook.clock = FakeClock()
    hook.before_train(follower)
    run_epochs(hook, follower, hook.clock, 0., 1)
    assert follower.train_loop._max_epochs == 13
    assert follower.train_loop._max_iters == 52
    assert follower.param_schedulers[1].T_max == 13
    assert 'decision.json says 13' in follower.logs[-1]

    class Ticking:  # one second per call: the wait times out
        now = 0.

        def __call__(self):
            self.now += 1.
            return self.now

    hook = TimeBudgetHook(follow_file=str(tmp_path / 'never.json'),
                          follow_timeout_s=1)
    hook.clock = Ticking()
    runner = make_runner()
    hook.before_train(runner)
    with pytest.raises(TimeoutError, match='never.json did not appear'):
        run_epochs(hook, runner, FakeClock(), 0., 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match='budget_s is 0'):
        TimeBudgetHook(budget_s=0)
    with pytest.raises(ValueError, match='measure_epochs is 0'):
        TimeBudgetHook(budget_s=10, measure_epochs=0)
    with pytest.raises(TypeError, match='epoch-based'):
        TimeBudgetHook(budget_s=10).before_train(
            SimpleNamespace(train_loop=object()))


BUDGET_CFG = """
train_cfg = dict(_delete_=True, by_epoch=True, max_epochs=4,
                 val_interval=100)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=4, begin=0, end=4,
                        eta_min=1e-5, by_epoch=True)]
default_hooks = dict(checkpoint=dict(
    type='AtomicCheckpointHook', by_epoch=True, interval=1,
    max_keep_ckpts=10, save_best=None))
"""


def test_tools_train_stops_at_the_budget(tmp_path, data_root):
    # tools/train.py --time-budget: a budget already spent after epoch 1,
    # so the 4-epoch run ends there, with its final checkpoint
    from tests.test_engine import train_helpers as th
    cfg = th.write_config(tmp_path, BUDGET_CFG)
    work_dir = str(tmp_path / 'work')
    decision = str(tmp_path / 'decision.json')
    proc = th.run(
        th.train_cmd(cfg, work_dir, '--time-budget', '0.001',
                     '--time-budget-file', decision), data_root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'max_epochs 4 -> 1' in log
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
    assert not (tmp_path / 'work' / 'epoch_2.pth').exists()
    with open(decision) as f:
        assert json.load(f) == dict(max_epochs=1)
