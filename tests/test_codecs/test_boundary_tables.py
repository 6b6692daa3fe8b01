"""Boundary tables against MMPose's face datasets (mmpose_samples)."""
import os.path as osp

import numpy as np
import pytest
from mmpose.datasets import (AFLWDataset, COFWDataset,
                             CocoWholeBodyFaceDataset, Face300WDataset,
                             LapaDataset, WFLWDataset)

from rht_mmpose.codecs import (BOUNDARY_TABLES, LandmarkBoundaryHeatmap,
                               boundary_flip_indices,
                               boundary_scheme_from_metainfo,
                               flip_indices_with_boundaries, get_boundaries,
                               get_boundary_names)

SAMPLES = {
    '300w': (Face300WDataset, '300w/test_300w.json', 68, 13),
    'wflw': (WFLWDataset, 'wflw/test_wflw.json', 98, 13),
    'cofw': (COFWDataset, 'cofw/test_cofw.json', 29, 13),
    'aflw': (AFLWDataset, 'aflw/test_aflw.json', 19, 6),
}


def _dataset(data_root, cls, ann):
    folder = osp.join(data_root, 'mmpose_samples', osp.dirname(ann))
    return cls(
        ann_file=osp.join(data_root, 'mmpose_samples', ann),
        data_prefix=dict(img=folder + '/'),
        pipeline=[],
        test_mode=True)


@pytest.mark.parametrize('scheme', sorted(SAMPLES))
def test_tables_valid_for_scheme(data_root, scheme):
    cls, ann, k, p = SAMPLES[scheme]
    ds = _dataset(data_root, cls, ann)
    meta = ds.metainfo
    assert boundary_scheme_from_metainfo(meta) == scheme
    assert meta['num_keypoints'] == k
    bounds = get_boundaries(scheme)
    names = get_boundary_names(scheme)
    assert len(bounds) == len(names) == p == len(set(names))
    for idx in bounds:
        assert all(0 <= i < k for i in idx)
        assert len(set(idx)) >= 2 and len(set(idx)) == len(idx)
    # flipping a boundary's landmarks gives the flipped boundary's landmarks
    flip = meta['flip_indices']
    bflip = boundary_flip_indices(scheme)
    assert sorted(bflip) == list(range(p))
    for b, idx in enumerate(bounds):
        assert {flip[i] for i in idx} == set(bounds[bflip[b]]), names[b]
        assert bflip[bflip[b]] == b
        # left/right names swap, the others stay
        expect = names[b].replace('left', 'tmp').replace(
            'right', 'left').replace('tmp', 'right')
        assert names[bflip[b]] == expect
    perm = flip_indices_with_boundaries(scheme, flip)
    assert perm[:k] == list(flip) and sorted(perm) == list(range(k + p))

    codec = LandmarkBoundaryHeatmap(input_size=(256, 256),
                                    heatmap_size=(128, 128))
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        kpts = info['keypoints'][0]
        # semantics on the real samples: upper above lower, left of right
        for b, name in enumerate(names):
            ys = kpts[bounds[b], 1].mean()
            xs = kpts[bounds[b], 0].mean()
            lower = name.replace('upper', 'lower')
            if 'upper' in name and lower in names:
                y_low = kpts[bounds[names.index(lower)], 1].mean()
                # a closed mouth has coinciding inner lips
                assert ys < y_low + (1e-3 if 'inner' in name else 0), name
            right = name.replace('left', 'right')
            if 'left' in name:
                assert xs < kpts[bounds[names.index(right)], 0].mean(), name
        # encode the face mapped into 256x256: every boundary drawn
        x0, y0 = kpts.min(0)
        size = (kpts.max(0) - kpts.min(0)).max()
        k256 = (kpts - [x0, y0]) / size * 200 + 28
        enc = codec.encode(k256[None])
        assert codec.boundary_scheme == scheme
        assert enc['heatmaps'].shape == (k + p, 128, 128)
        assert (enc['heatmaps'][k:].max(axis=(1, 2)) == 1).all()


def test_coco_wholebody_face_is_300w_and_lapa_fails(data_root):
    ds = _dataset(data_root, CocoWholeBodyFaceDataset,
                  'coco/test_coco_wholebody.json')
    assert ds.metainfo['dataset_name'] == 'coco_wholebody_face'
    assert boundary_scheme_from_metainfo(ds.metainfo) == '300w'
    lapa = _dataset(data_root, LapaDataset, 'lapa/test_lapa.json')
    with pytest.raises(ValueError, match=r"'lapa' has 106 keypoints"):
        boundary_scheme_from_metainfo(lapa.metainfo)


def test_metainfo_errors():
    with pytest.raises(ValueError, match="'wflw' has 68 keypoints"):
        boundary_scheme_from_metainfo(
            dict(dataset_name='wflw', num_keypoints=68))
    # unknown names fall back to the keypoint count
    assert boundary_scheme_from_metainfo(
        dict(dataset_name='my_faces', num_keypoints=98)) == 'wflw'
    with pytest.raises(ValueError, match='unknown boundary scheme'):
        get_boundaries('lapa')
    assert set(BOUNDARY_TABLES) == {'300w', 'wflw', 'cofw', 'aflw'}


def test_300w_table_is_lab_layout():
    b = dict(zip(get_boundary_names('300w'), get_boundaries('300w')))
    assert b['cheek'] == list(range(17))
    assert b['nose_bridge'] == [27, 28, 29, 30]
    assert b['left_lower_eyelid'] == [36, 41, 40, 39]
    assert b['lower_inner_lip'] == [60, 67, 66, 65, 64]
    assert np.array_equal(
        flip_indices_with_boundaries('300w', list(range(68)))[68:],
        [68 + i for i in [0, 2, 1, 3, 4, 7, 8, 5, 6, 9, 10, 11, 12]])
