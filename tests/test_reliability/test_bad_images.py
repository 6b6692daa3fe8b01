"""Missing / corrupt image files: a clear error by default; with
``skip_bad_images`` a skip that is warned, recorded in the sample and
counted by ``BadSampleReportHook`` with any ``num_workers``."""
import glob
import logging
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

import rht_mmpose.datasets.paired_reference_dataset as prd
from rht_mmpose.datasets import BadImageError, PairedReferenceDataset
from rht_mmpose.engine import BadSampleReportHook


def pts_cfg(root, folder, test_mode=True):
    return dict(
        type='Face300WPtsDataset',
        data_root=root,
        pts_folders=[folder],
        cache_dir=osp.join(root, 'cache'),
        test_mode=test_mode)


def build(root, codec, pipeline, cls=PairedReferenceDataset,
          test_mode=True, **kw):
    return cls(
        dataset=pts_cfg(root, 'faces', test_mode),
        pipeline=pipeline,
        codec=codec,
        ref_input_size=(32, 32),
        cache_dir=None,
        sift_cfg=dict(progress=False),
        **kw)


def image_of(ds, idx):
    return ds.get_data_info(idx)['img_path']


def break_image(path, how):
    if how == 'missing':
        os.remove(path)
    else:
        with open(path, 'wb') as f:
            f.write(b'\x89PNG not really an image')


@pytest.mark.parametrize('how', ['missing', 'corrupt'])
def test_bad_target_raises_naming_the_file(small_root, small_codec,
                                           small_pipeline, how):
    ds = build(small_root, small_codec, small_pipeline, ref_mode='fixed',
               ref_index=0)
    path = image_of(ds, 2)
    break_image(path, how)
    reason = 'missing' if how == 'missing' else 'unreadable'
    with pytest.raises(BadImageError, match=rf'target image of sample 2 .*'
                       rf'is {reason}.*{path}') as info:
        ds[2]
    assert info.value.path == path and info.value.kind == 'target'
    ds[1]  # the others still load (with reference 0)


def test_train_mode_never_refetches_silently(small_root, small_codec,
                                             small_pipeline):
    # LoadImage(ignore_empty=True) returns None: mmengine alone would draw
    # another sample without a word; the wrapper names the file
    pipeline = [dict(type='LoadImage', ignore_empty=True)] + \
        small_pipeline[1:]
    ds = build(small_root, small_codec, pipeline, test_mode=False)
    path = image_of(ds, 0)
    os.remove(path)
    with pytest.raises(BadImageError, match=path):
        ds[0]


def test_bad_reference_raises_naming_pool_and_file(small_root, small_codec,
                                                   small_pipeline):
    ds = build(small_root, small_codec, small_pipeline, ref_mode='fixed',
               ref_index=1, ref_pool=pts_cfg(small_root, 'pool'))
    path = ds.pool.get_data_info(1)['img_path']
    os.remove(path)
    with pytest.raises(BadImageError, match=r"reference image of pool face "
                       r"1 in Face300WPtsDataset\(.*pool.*is missing") as e:
        ds[0]
    assert e.value.path == path and e.value.kind == 'reference'


def test_skip_bad_reference(small_root, small_codec, small_pipeline,
                            monkeypatch):
    logged = []
    monkeypatch.setattr(prd, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    ds = build(small_root, small_codec, small_pipeline, ref_mode='fixed',
               ref_index=1, ref_pool=pts_cfg(small_root, 'pool'),
               skip_bad_images=True)
    path = ds.pool.get_data_info(1)['img_path']
    break_image(path, 'corrupt')
    out = [ds[i]['data_samples'] for i in range(len(ds))]
    out += [ds[i]['data_samples'] for i in range(len(ds))]
    # the next pool face after ref_index is used instead, for every target
    assert [s.metainfo['ref_index'] for s in out] == [2] * len(out)
    # the file is read once: the face is then excluded in this process
    assert out[0].metainfo['skipped_images'] == [
        dict(kind='reference', index=1, path=path,
             reason=out[0].metainfo['skipped_images'][0]['reason'])
    ]
    assert all(s.metainfo['skipped_images'] == [] for s in out[1:])
    assert ds.num_skipped == 1
    # warned once, at WARNING level, naming the file
    assert len(logged) == 1
    msg, kw = logged[0]
    assert path in msg and 'unreadable' in msg and 'pool face 1' in msg
    assert kw['level'] == logging.WARNING


def test_skip_bad_reference_sift_takes_next_best(
        small_root, small_codec, small_pipeline, tmp_path):
    ds = build(small_root, small_codec, small_pipeline,
               ref_mode='sift', skip_bad_images=True)
    best = ds.select_reference(0)
    os.remove(image_of(ds, best))
    ref = ds[0]['data_samples'].metainfo['ref_index']
    cand = [j for j in range(len(ds)) if j not in (0, best)]
    assert ref == cand[int(np.argmax(ds.ref_scores[0, cand]))]


def test_skip_with_every_reference_bad(small_root, small_codec,
                                       small_pipeline):
    ds = build(small_root, small_codec, small_pipeline,
               ref_pool=pts_cfg(small_root, 'pool'), skip_bad_images=True)
    for j in range(len(ds.pool)):
        os.remove(ds.pool.get_data_info(j)['img_path'])
    with pytest.raises(RuntimeError, match=r'no allowed reference left.* 3 '
                       r'pool face\(s\) skipped'):
        ds[0]


def test_bad_target_still_raises_in_test_mode(small_root, small_codec,
                                              small_pipeline):
    ds = build(small_root, small_codec, small_pipeline,
               skip_bad_images=True)
    os.remove(image_of(ds, 3))
    with pytest.raises(BadImageError, match='sample 3'):
        ds[3]


class LoggingPaired(PairedReferenceDataset):
    """Also appends every skip to a file: an independent channel out of
    the worker processes, to check the hook's count against."""

    skip_log = None

    def _note_skip(self, err):
        super()._note_skip(err)
        with open(self.skip_log, 'a') as f:
            f.write(f'{os.getpid()} {err.kind} {err.path}\n')


class FakeRunner:

    def __init__(self):
        self.epoch = 0
        self.message_hub = None
        self.logger = logging.getLogger('fake_runner')
        self.warnings = []
        self.logger.warning = self.warnings.append


@pytest.mark.parametrize('num_workers', [0, 2])
def test_skips_counted_across_workers(small_root, small_codec,
                                      small_pipeline, tmp_path, num_workers):
    LoggingPaired.skip_log = str(tmp_path / 'skips.txt')
    ds = build(small_root, small_codec, small_pipeline, cls=LoggingPaired,
               test_mode=False, ref_mode='fixed', ref_index=0,
               ref_pool=pts_cfg(small_root, 'pool'), skip_bad_images=True)
    bad_target = image_of(ds, 1)
    bad_ref = ds.pool.get_data_info(0)['img_path']
    os.remove(bad_target)
    os.remove(bad_ref)
    loader = DataLoader(ds, batch_size=2, num_workers=num_workers,
                        collate_fn=pseudo_collate, shuffle=False)
    hook, runner = BadSampleReportHook(), FakeRunner()
    for i, batch in enumerate(loader):
        for s in batch['data_samples']:
            assert s.img_path != bad_target
            assert s.metainfo['ref_index'] != 0
        hook.after_train_iter(runner, i, batch)
    hook.after_train_epoch(runner)

    with open(LoggingPaired.skip_log) as f:
        events = [ln.split() for ln in f]
    report = hook.history[-1]
    assert report['num_skipped'] == len(events)
    assert report['files'][bad_target] == sum(e[1] == 'target'
                                              for e in events) >= 1
    # the bad reference is hit once per process, then excluded there
    pids = {e[0] for e in events}
    assert report['files'][bad_ref] == len(pids) == max(num_workers, 1)
    assert report['num_files'] == 2
    if num_workers:
        assert ds.num_skipped == 0  # why a counter in the dataset is wrong
    # one warning per file, then the epoch line with the total
    assert len(runner.warnings) == 3
    assert f'{len(events)} sample(s) skipped' in runner.warnings[-1]

    # next epoch without bad files: a report of 0, no warning
    hook.after_train_epoch(runner)
    assert hook.history[-1]['num_skipped'] == 0 and len(runner.warnings) == 3


def test_hook_is_registered():
    from mmpose.registry import HOOKS
    hook = HOOKS.build(dict(type='BadSampleReportHook', max_listed=3))
    assert isinstance(hook, BadSampleReportHook) and hook.max_listed == 3


def test_no_tmp_left(small_root):
    assert not glob.glob(osp.join(small_root, 'cache', '.*tmp'))
