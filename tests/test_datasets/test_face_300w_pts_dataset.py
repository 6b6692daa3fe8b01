"""Face300WPtsDataset: .pts folders converted on the fly and cached."""
import glob
import os
import os.path as osp

import numpy as np
import pytest
from mmpose.registry import DATASETS



def read_points_exact(path):
    """Independent .pts parse (strings -> float)."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    body = lines[lines.index('{') + 1:lines.index('}')]
    return np.array([[float(v) for v in ln.split()] for ln in body])


def test_converts_once_and_loads(tiny_root, tmp_path):
    cache = str(tmp_path / 'cache')
    cfg = dict(
        type='Face300WPtsDataset',
        data_root=tiny_root,
        pts_folders=['faces', 'pool'],
        cache_dir=cache)
    ds = DATASETS.build(cfg)
    jsons = glob.glob(osp.join(cache, '*.json'))
    assert len(jsons) == 1
    assert not glob.glob(osp.join(cache, '.*tmp'))  # atomic write
    mtime = os.stat(jsons[0]).st_mtime_ns
    assert len(ds) == 9
    assert ds.metainfo['dataset_name'] == '300w'
    assert len(ds.metainfo['flip_indices']) == 68
    pts = sorted(glob.glob(osp.join(tiny_root, 'faces', '*.pts'))) + sorted(
        glob.glob(osp.join(tiny_root, 'pool', '*.pts')))
    for i, path in enumerate(pts):
        info = ds.get_data_info(i)
        assert osp.isfile(info['img_path'])
        assert osp.splitext(info['img_path'])[0] == osp.splitext(path)[0]
        np.testing.assert_allclose(info['keypoints'][0],
                                   read_points_exact(path), rtol=0,
                                   atol=1e-4)  # float32 storage
        assert (info['keypoints_visible'] == 1).all()
        x0, y0 = info['keypoints'][0].min(0)
        x1, y1 = info['keypoints'][0].max(0)
        side = max(x1 - x0, y1 - y0)
        np.testing.assert_allclose(info['bbox_scale'][0], [side, side],
                                   rtol=1e-5)
        np.testing.assert_allclose(info['bbox_center'][0],
                                   [(x0 + x1) / 2, (y0 + y1) / 2],
                                   rtol=1e-5)
    # second build reads the cached json
    DATASETS.build(cfg)
    assert os.stat(jsons[0]).st_mtime_ns == mtime
    assert len(glob.glob(osp.join(cache, '*.json'))) == 1


def test_rejects_ann_file_and_missing_folder(tiny_root, tmp_path):
    with pytest.raises(ValueError, match='ann_file'):
        DATASETS.build(
            dict(type='Face300WPtsDataset', data_root=tiny_root,
                 pts_folders=['faces'], ann_file='x.json'))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        DATASETS.build(
            dict(type='Face300WPtsDataset', data_root=tiny_root,
                 pts_folders=['nowhere'], cache_dir=str(tmp_path)))
