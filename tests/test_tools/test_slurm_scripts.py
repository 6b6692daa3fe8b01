"""tools/slurm_{train,test}.sh hand srun the mmpose command line; a stand-in
srun on PATH records what it gets."""
import os
import os.path as osp
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_with_fake_srun(tmp_path, script, args, env_extra=None):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    log = tmp_path / 'srun_args'
    fake = bindir / 'srun'
    fake.write_text('#!/usr/bin/env bash\n'
                    f'printf "%s\\n" "$@" > {log}\n'
                    f'echo "$PYTHONPATH" > {log}.pythonpath\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f'{bindir}:{os.environ["PATH"]}')
    env.update(env_extra or {})
    subprocess.run(['bash', osp.join(REPO, 'tools', script)] + args,
                   cwd=REPO, env=env, check=True, capture_output=True)
    return log.read_text().split('\n')[:-1], \
        (tmp_path / 'srun_args.pythonpath').read_text()


def test_slurm_train_command_line(tmp_path):
    argv, pythonpath = run_with_fake_srun(
        tmp_path, 'slurm_train.sh',
        ['gpu', 'rht', 'configs/rht_hrnet_w48_wflw.py', 'work_dirs/x',
         '--resume'], dict(GPUS='16', GPUS_PER_NODE='8'))
    assert argv[:2] == ['-p', 'gpu']
    for flag in ('--job-name=rht', '--gres=gpu:8', '--ntasks=16',
                 '--ntasks-per-node=8', '--cpus-per-task=5',
                 '--kill-on-bad-exit=1'):
        assert flag in argv
    i = argv.index('python')
    assert argv[i:] == [
        'python', '-u', 'tools/train.py', 'configs/rht_hrnet_w48_wflw.py',
        '--work-dir=work_dirs/x', '--launcher=slurm', '--resume'
    ]
    assert pythonpath.startswith(osp.join(REPO, 'tools', '..')) or \
        pythonpath.startswith('tools/..')


def test_slurm_test_command_line(tmp_path):
    argv, _ = run_with_fake_srun(
        tmp_path, 'slurm_test.sh',
        ['gpu', 'rht', 'configs/rht_res50_cofw.py', 'ckpt.pth'])
    assert '--ntasks=8' in argv and '--gres=gpu:8' in argv
    i = argv.index('python')
    assert argv[i:] == [
        'python', '-u', 'tools/test.py', 'configs/rht_res50_cofw.py',
        'ckpt.pth', '--launcher=slurm'
    ]
