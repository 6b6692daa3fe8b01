"""PairedReferenceDataset(ref_cache=True): references read from the
memory-mapped cache equal freshly rendered ones; the cache is built once,
completely or not at all; bad images and wrong settings behave as without
it."""
import glob
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
import torch

from rht_mmpose.datasets import (BadImageError, PairedReferenceDataset,
                                 ReferenceCache)
from .test_paired_reference_dataset import wrapper


def cache_folders(cache_dir):
    return sorted(glob.glob(osp.join(cache_dir, 'refcache_*')))


def test_cached_references_equal_rendered(tiny_root, codec, val_pipeline,
                                          tmp_path):
    cache_dir = str(tmp_path / 'cache')
    plain = wrapper(tiny_root, codec, val_pipeline, cache_dir)
    cached = wrapper(tiny_root, codec, val_pipeline, cache_dir,
                     ref_cache=True)
    assert len(cache_folders(cache_dir)) == 1
    assert cached.ref_cache is not None and plain.ref_cache is None
    for i in range(len(cached.pool)):
        a, b = plain.get_reference(i), cached.get_reference(i)
        assert torch.equal(a['ref_img'], b['ref_img'])
        assert torch.equal(a['ref_heatmaps'], b['ref_heatmaps'])
        assert b['ref_heatmaps'].dtype == torch.float32
        assert (a['ref_id'], a['ref_index']) == (b['ref_id'], b['ref_index'])
    # a whole sample through the cache, and after pickling (workers)
    clone = pickle.loads(pickle.dumps(cached))
    sample = clone[1]['data_samples']
    ref = plain.get_reference(sample.metainfo['ref_index'])
    assert torch.equal(sample.ref_heatmaps, ref['ref_heatmaps'])


def test_cache_is_reused_not_rerendered(tiny_root, codec, val_pipeline,
                                        tmp_path, monkeypatch):
    cache_dir = str(tmp_path / 'cache')
    calls = []
    original = PairedReferenceDataset.render_reference

    def counting(self, idx, info=None):
        calls.append(idx)
        return original(self, idx, info)

    monkeypatch.setattr(PairedReferenceDataset, 'render_reference',
                        counting)
    first = wrapper(tiny_root, codec, val_pipeline, cache_dir,
                    ref_cache=True)
    n = len(first.pool)
    assert sorted(calls) == list(range(n))
    calls.clear()
    second = wrapper(tiny_root, codec, val_pipeline, cache_dir,
                     ref_cache=True)
    for i in range(n):
        second.get_reference(i)
    assert calls == []
    # another reference codec is another cache
    wrapper(tiny_root, dict(codec, sigma=2.0), val_pipeline, cache_dir,
            ref_cache=True)
    assert len(cache_folders(cache_dir)) == 2


def test_failed_build_leaves_no_folder(tmp_path):
    def render(i):
        if i == 2:
            raise KeyboardInterrupt  # e.g. the user stops the run
        return np.zeros((4, 4, 3), np.uint8), np.zeros((2, 4, 4), np.float32)

    with pytest.raises(KeyboardInterrupt):
        ReferenceCache.build_or_open(str(tmp_path), 'refcache_x', 5, render,
                                     progress=False)
    assert os.listdir(tmp_path) == []


def test_bad_reference_image_still_reported(tiny_root, codec, val_pipeline,
                                            tmp_path):
    root = str(tmp_path / 'root')
    shutil.copytree(tiny_root, root, ignore=shutil.ignore_patterns('cache'))
    build = dict(root=root, codec=codec, pipeline=val_pipeline,
                 cache_dir=str(tmp_path / 'cache'), ref_mode='fixed',
                 ref_index=1)
    bad = wrapper(**build).pool.get_data_info(1)['img_path']
    with open(bad, 'wb') as f:
        f.write(b'not an image')
    ds = wrapper(**build, ref_cache=True)
    assert ds.ref_cache.get(1) is None  # left to get_reference
    assert ds.ref_cache.get(0) is not None
    with pytest.raises(BadImageError, match='reference image of pool face 1'):
        ds[0]


def test_ref_cache_needs_default_pipeline_and_cache_dir(
        tiny_root, codec, val_pipeline, tmp_path):
    with pytest.raises(ValueError, match='custom ref_pipeline'):
        wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                ref_cache=True,
                ref_pipeline=[dict(type='LoadImage')])
    with pytest.raises(ValueError, match="needs a cache_dir, got None"):
        wrapper(tiny_root, codec, val_pipeline, None, ref_cache=True)
