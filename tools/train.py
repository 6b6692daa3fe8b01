# Copyright (c) rht_mmpose authors. Thin mmengine-Runner entry point with the
# same flags as mmpose's tools/train.py.
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner, find_latest_checkpoint

# the installed package; importing it registers rht_mmpose even when a
# config forgets custom_imports
import rht_mmpose  # noqa: F401
from rht_mmpose.engine import prepare_run
from rht_mmpose.utils import check_config_paths


def parse_args():
    parser = argparse.ArgumentParser(description='Train a pose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument(
        '--show-dir',
        help='directory where the visualization images will be saved.')
    parser.add_argument(
        '--show',
        action='store_true',
        help='whether to display the prediction results in a window.')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualize per interval samples.')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=1,
        help='display time of every window. (second)')
    parser.add_argument(
        '--time-budget',
        type=float,
        default=None,
        metavar='SECONDS',
        help='fit max_epochs (and the lr schedule) so training ends within '
        'SECONDS, timed on the first epoch (TimeBudgetHook); the config\'s '
        'max_epochs stays the upper bound')
    parser.add_argument(
        '--time-budget-file',
        default=None,
        metavar='JSON',
        help='with --time-budget: write the decided max_epochs here; '
        'without: train as many epochs as another run wrote there (two '
        'arms of a comparison side by side, same epochs)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Merge CLI arguments into the config, as mmpose's train.py does."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp is True:
        from mmengine.optim import AmpOptimWrapper, OptimWrapper
        optim_wrapper = cfg.optim_wrapper.get('type', OptimWrapper)
        assert optim_wrapper in (OptimWrapper, AmpOptimWrapper,
                                 'OptimWrapper', 'AmpOptimWrapper',
                                 'BF16AutocastOptimWrapper'), \
            '`--amp` is not supported custom optimizer wrapper type ' \
            f'`{optim_wrapper}.'
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            # AmpOptimWrapper refuses a machine without a GPU; bfloat16
            # autocast needs no loss scale
            cfg.optim_wrapper.type = 'BF16AutocastOptimWrapper'

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    if args.show or (args.show_dir is not None):
        assert 'visualization' in cfg.default_hooks, \
            'PoseVisualizationHook is not set in the ' \
            '`default_hooks` field of config. Please set ' \
            '`visualization=dict(type="PoseVisualizationHook")`'
        cfg.default_hooks.visualization.enable = True
        cfg.default_hooks.visualization.show = args.show
        if args.show:
            cfg.default_hooks.visualization.wait_time = args.wait_time
        cfg.default_hooks.visualization.out_dir = args.show_dir
        cfg.default_hooks.visualization.interval = args.interval

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # after --cfg-options: the decision reads the final work_dir and
    # load_from
    if args.resume == 'auto':
        if find_latest_checkpoint(cfg.work_dir) is not None:
            cfg.resume = True
            cfg.load_from = None
        else:
            # nothing to resume yet: start as a fresh run would, from the
            # config's load_from weights (a stage-2 config) if it has them;
            # mmpose's train.py would drop them and train from scratch
            cfg.resume = False
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.time_budget is not None or args.time_budget_file is not None:
        # after --cfg-options, which may set max_epochs or custom_hooks
        if not cfg.train_cfg.get('by_epoch', True) or \
                'max_epochs' not in cfg.train_cfg:
            raise SystemExit('--time-budget needs an epoch-based train_cfg '
                             f'(by_epoch=True, max_epochs), got '
                             f'{dict(cfg.train_cfg)}')
        if args.time_budget is not None:
            hook = dict(type='TimeBudgetHook', budget_s=args.time_budget,
                        decision_file=args.time_budget_file)
        else:
            hook = dict(type='TimeBudgetHook',
                        follow_file=args.time_budget_file)
        cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [hook]
    return cfg


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_config_paths(cfg)
    prepare_run(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
