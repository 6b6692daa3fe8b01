"""Face300WPtsDataset: .pts folders converted on the fly and cached."""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmpose.registry import DATASETS

from tests.conftest import expected_pts_offset


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
        # 0-based centres of the 1-based files
        offset = expected_pts_offset(cv2.imread(info['img_path']).shape)
        np.testing.assert_allclose(info['keypoints'][0],
                                   read_points_exact(path) - offset, rtol=0,
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


def test_split_file_sides_are_disjoint_and_carry_their_subset(tiny_root,
                                                              tmp_path):
    faces = sorted(glob.glob(osp.join(tiny_root, 'faces', '*.jpg')))
    listed = [osp.relpath(faces[1], tiny_root), osp.relpath(
        glob.glob(osp.join(tiny_root, 'pool', '*.jpg'))[0], tiny_root)]
    split = tmp_path / 'val.txt'
    split.write_text('# two validation faces\n' + '\n'.join(listed) +
                     '\n\n')
    sides = {}
    for side in ('train', 'val'):
        ds = DATASETS.build(dict(
            type='Face300WPtsDataset', data_root=tiny_root,
            pts_folders=['faces', 'pool'], cache_dir=str(tmp_path / 'c'),
            split_file=str(split), split=side))
        sides[side] = [osp.relpath(ds.get_data_info(i)['img_path'],
                                   tiny_root) for i in range(len(ds))]
        subsets = {ds.get_data_info(i)['subset'] for i in range(len(ds))}
        assert subsets == {'faces', 'pool'}
    assert sorted(sides['val']) == sorted(listed)
    assert len(sides['train']) == 9 - 2
    assert not set(sides['train']) & set(sides['val'])
    # a listed face that is not in the folders is an error, not a skip
    split.write_text('\n'.join(listed + ['faces/missing.jpg']))
    with pytest.raises(ValueError, match=r"lists 3 faces in \['faces', 'pool'\], 2 of them are there"):
        DATASETS.build(dict(
            type='Face300WPtsDataset', data_root=tiny_root,
            pts_folders=['faces', 'pool'], cache_dir=str(tmp_path / 'c'),
            split_file=str(split), split='val'))
    with pytest.raises(ValueError, match="split 'test', expected one of"):
        DATASETS.build(dict(
            type='Face300WPtsDataset', data_root=tiny_root,
            pts_folders=['faces'], cache_dir=str(tmp_path / 'c'),
            split_file=str(split), split='test'))


def test_make_val_split_is_stratified_and_keeps_photos_whole(tmp_path):
    from tests.conftest import load_script
    tool = load_script('tools/dataset_converters/make_val_split.py',
                       'rht_make_val_split')
    root = tmp_path / 'root'
    for folder, stems in (('a', [f'{p}_{f}' for p in range(10)
                                 for f in (1, 2)]),
                          ('b', [f'image_{i:04d}' for i in range(30)])):
        (root / folder).mkdir(parents=True)
        for stem in stems:
            (root / folder / f'{stem}.pts').write_text('')
            (root / folder / f'{stem}.jpg').write_bytes(b'')
    val = tool.stratified_split(str(root), ['a', 'b'], 0.2, seed=0)
    a = [v for v in val if v.startswith('a/')]
    b = [v for v in val if v.startswith('b/')]
    assert len(a) == 4 and len(b) == 6  # 20 % of 20 and of 30
    photos = {osp.basename(v).split('_')[0] for v in a}
    assert len(photos) == 2  # two whole photos of two faces each
    assert val == tool.stratified_split(str(root), ['a', 'b'], 0.2, seed=0)
    assert val != tool.stratified_split(str(root), ['a', 'b'], 0.2, seed=1)
