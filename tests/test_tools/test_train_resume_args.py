"""tools/train.py --resume: resume where a checkpoint exists, otherwise start
from the config's load_from (a stage-2 config killed before its first
checkpoint must not restart from scratch)."""
import sys

from mmengine.config import Config

from tests.conftest import load_script

train_script = load_script('tools/train.py', 'rht_train_script')


def _args(resume, work_dir, monkeypatch, extra=()):
    argv = ['train.py', 'any_config.py', '--work-dir', str(work_dir),
            '--resume']
    if resume != 'auto':
        argv.append(resume)
    argv += list(extra)
    monkeypatch.setattr(sys, 'argv', argv)
    return train_script.parse_args()


def _stage2_cfg():
    return Config(dict(load_from='stage1/epoch_40.pth', resume=False))


def test_auto_resume_without_checkpoint_keeps_load_from(tmp_path, monkeypatch):
    cfg = _stage2_cfg()
    train_script.merge_args(cfg, _args('auto', tmp_path, monkeypatch))
    assert cfg.resume is False
    assert cfg.load_from == 'stage1/epoch_40.pth'


def test_auto_resume_with_checkpoint_resumes_latest(tmp_path, monkeypatch):
    (tmp_path / 'epoch_3.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    cfg = _stage2_cfg()
    train_script.merge_args(cfg, _args('auto', tmp_path, monkeypatch))
    # mmengine then finds epoch_3.pth itself (resume with load_from None)
    assert cfg.resume is True
    assert cfg.load_from is None


def test_explicit_resume_path_wins(tmp_path, monkeypatch):
    cfg = _stage2_cfg()
    args = _args('other/epoch_7.pth', tmp_path, monkeypatch)
    train_script.merge_args(cfg, args)
    assert cfg.resume is True
    assert cfg.load_from == 'other/epoch_7.pth'


def test_auto_resume_wins_over_cfg_options_load_from(tmp_path, monkeypatch):
    # a later stage given as --cfg-options load_from=...: once it has a
    # checkpoint of its own, a restart resumes it instead of starting over
    (tmp_path / 'epoch_2.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    cfg = _stage2_cfg()
    args = _args('auto', tmp_path, monkeypatch,
                 ['--cfg-options', 'load_from=stage2/epoch_20.pth'])
    train_script.merge_args(cfg, args)
    assert cfg.resume is True
    assert cfg.load_from is None


def test_cfg_options_load_from_starts_a_fresh_stage(tmp_path, monkeypatch):
    cfg = _stage2_cfg()
    args = _args('auto', tmp_path, monkeypatch,
                 ['--cfg-options', 'load_from=stage2/epoch_20.pth'])
    train_script.merge_args(cfg, args)
    assert cfg.resume is False
    assert cfg.load_from == 'stage2/epoch_20.pth'
