"""PairedReferenceDataset: attached fields, reference modes, SIFT cache,
build-time errors."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmpose.registry import DATASETS

from rht_mmpose.datasets import (PairedReferenceDataset, convert,
                                 count_good_matches, match_scores)


def faces_cfg(root, folder='faces', **kw):
    return dict(
        type='Face300WPtsDataset',
        data_root=root,
        pts_folders=[folder],
        cache_dir=osp.join(root, 'cache'),
        test_mode=True,
        **kw)


def wrapper(root, codec, pipeline, cache_dir, **kw):
    return DATASETS.build(
        dict(
            type='PairedReferenceDataset',
            dataset=faces_cfg(root),
            pipeline=pipeline,
            codec=codec,
            cache_dir=cache_dir,
            sift_cfg=dict(progress=False),
            **kw))


def test_sample_carries_reference(tiny_root, codec, val_pipeline, tmp_path):
    ds = wrapper(tiny_root, codec, val_pipeline, str(tmp_path))
    assert len(ds) == 6
    assert ds.metainfo['dataset_name'] == '300w'
    assert ds.metainfo['num_keypoints'] == 68
    out = ds[0]
    assert out['inputs'].shape == (3, 256, 256)
    sample = out['data_samples']
    assert sample.ref_img.shape == (3, 128, 128)
    assert sample.ref_img.dtype == torch.float32
    assert 0 <= sample.ref_img.min() and sample.ref_img.max() <= 255
    assert sample.ref_img.max() > 1  # 0..255, not normalised
    assert sample.ref_heatmaps.shape == (81, 128, 128)
    assert sample.ref_heatmaps.dtype == torch.float32
    ref_index = sample.metainfo['ref_index']
    assert ref_index != 0
    pool_info = ds.pool.get_data_info(ref_index)
    assert sample.metainfo['ref_id'] == pool_info['img_id']
    # the reference heatmaps are the reference's keypoints in 128x128
    # reference-image pixels: decode them and compare with the reference
    # pipeline's own transformed keypoints
    from mmpose.registry import KEYPOINT_CODECS
    ref_codec = KEYPOINT_CODECS.build(dict(codec, input_size=(128, 128)))
    dec, _ = ref_codec.decode(sample.ref_heatmaps.numpy())
    ref = ds.ref_pipeline(ds.pool.get_data_info(ref_index))
    np.testing.assert_allclose(
        dec[0], ref['transformed_keypoints'][0], atol=0.51)
    # and the reference image is that face, BGR 0..255
    np.testing.assert_array_equal(sample.ref_img.numpy(),
                                  ref['img'].transpose(2, 0, 1))


def test_random_never_self_and_redrawn(tiny_root, codec, val_pipeline,
                                       tmp_path):
    ds = wrapper(tiny_root, codec, val_pipeline, str(tmp_path))
    np.random.seed(0)
    for idx in range(len(ds)):
        draws = [ds.select_reference(idx) for _ in range(200)]
        assert idx not in draws
        # every other face shows up: redrawn each time, uniform-ish
        assert set(draws) == set(range(len(ds))) - {idx}
    # a face that shares the img_id is excluded too
    ds._pool_img_ids[3] = ds.dataset.get_data_info(1)['img_id']
    assert 3 not in {ds.select_reference(1) for _ in range(200)}
    # allow_self lets a face be its own reference
    ds2 = wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                  allow_self=True)
    assert 0 in {ds2.select_reference(0) for _ in range(200)}
    assert ds.num_descriptor_computations == 0  # random needs no SIFT


def test_sift_finds_rotated_copy_and_cache_is_reused(
        tiny_root, codec, val_pipeline, tmp_path):
    cache = str(tmp_path / 'sift')
    ds = wrapper(tiny_root, codec, val_pipeline, cache,
                 ref_mode='sift')
    names = [
        osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))
    ]
    orig = 0
    copy = names.index(next(n for n in names if n.startswith('zz_rotated')))
    assert ds.select_reference(orig) == copy
    assert ds.select_reference(copy) == orig
    assert all(ds.select_reference(i) != i for i in range(len(ds)))
    assert ds.num_descriptor_computations == 6
    assert ds[orig]['data_samples'].metainfo['ref_index'] == copy

    again = wrapper(tiny_root, codec, val_pipeline, cache,
                    ref_mode='sift')
    assert again.num_descriptor_computations == 0
    np.testing.assert_array_equal(again._best, ds._best)

    least = wrapper(tiny_root, codec, val_pipeline, cache,
                    ref_mode='sift_least')
    assert least.num_descriptor_computations == 0  # same score cache
    for i in range(len(ds)):
        j = least.select_reference(i)
        assert j != i
        others = [k for k in range(len(ds)) if k != i]
        assert ds.ref_scores[i, j] == ds.ref_scores[i, others].min()


def test_batched_scores_equal_opencv_bfmatcher(tiny_root, codec,
                                               val_pipeline, tmp_path):
    ds = wrapper(tiny_root, codec, val_pipeline, None,
                 ref_mode='sift')
    desc, counts = ds.sift.compute_descriptors(ds.dataset)
    assert (counts > 10).all()
    for i in range(3):
        fast = match_scores(desc[i, :counts[i]], desc, counts)
        slow = [
            count_good_matches(desc[i, :counts[i]], desc[j, :counts[j]])
            for j in range(len(desc))
        ]
        np.testing.assert_array_equal(fast, slow)


def test_fixed_mode_and_external_pool(tiny_root, codec, val_pipeline,
                                      tmp_path):
    ds = wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                 ref_mode='fixed', ref_index=2)
    refs = [ds.select_reference(i) for i in range(len(ds))]
    assert refs == [2, 2, 3, 2, 2, 2]  # face 2 gets the next face
    img_id = ds.dataset.get_data_info(4)['img_id']
    ds = wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                 ref_mode='fixed', ref_img_id=img_id)
    assert ds.select_reference(0) == 4
    with pytest.raises(ValueError, match='exactly one of'):
        wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                ref_mode='fixed')

    pooled = wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                     ref_pool=faces_cfg(tiny_root, 'pool'))
    assert len(pooled.pool) == 3 and not pooled.self_pool
    assert {pooled.select_reference(0) for _ in range(100)} == {0, 1, 2}
    sample = pooled[1]['data_samples']
    assert sample.metainfo['ref_id'] == pooled.pool.get_data_info(
        sample.metainfo['ref_index'])['img_id']
    # a pool config equal to the dataset is recognised as a self pool
    same = wrapper(tiny_root, codec, val_pipeline, str(tmp_path),
                   ref_pool=faces_cfg(tiny_root))
    assert same.self_pool
    assert 0 not in {same.select_reference(0) for _ in range(100)}


def test_build_errors(tiny_root, codec, val_pipeline, tmp_path, data_root):
    with pytest.raises(ValueError, match='ref_mode'):
        wrapper(tiny_root, codec, val_pipeline, None, ref_mode='nearest')
    with pytest.raises(ValueError, match='empty'):
        wrapper(tiny_root, codec, val_pipeline, None,
                ref_pool=faces_cfg(
                    tiny_root, 'pool', indices=0, serialize_data=False))
    cofw = osp.join(data_root, 'mmpose_samples', 'cofw')
    with pytest.raises(ValueError, match=r'has 29 keypoints.*has 68'):
        wrapper(tiny_root, codec, val_pipeline, None,
                ref_pool=dict(
                    type='COFWDataset',
                    ann_file=osp.join(cofw, 'test_cofw.json'),
                    data_prefix=dict(img=cofw + '/'),
                    test_mode=True))
    # every pool face invisible
    ann = str(tmp_path / 'invisible.json')
    coco = convert(['pool'], ann, tiny_root, progress=False)
    for a in coco['annotations']:
        a['keypoints'][2::3] = [0] * 68
    with open(ann, 'w') as f:
        json.dump(coco, f)
    with pytest.raises(ValueError, match='none with a visible keypoint'):
        wrapper(tiny_root, codec, val_pipeline, None,
                ref_pool=dict(
                    type='Face300WDataset',
                    ann_file=ann,
                    data_root=tiny_root,
                    data_prefix=dict(img=''),
                    test_mode=True))
    with pytest.raises(ValueError, match='needs `codec`'):
        PairedReferenceDataset(
            dataset=faces_cfg(tiny_root), pipeline=val_pipeline)


@pytest.mark.parametrize('mode,message', [
    ('most_similar', "renamed: use 'sift' \\(dataset\\)"),
    ('least_similar', "renamed: use 'sift_least'"),
    ('descriptor', "not a dataset reference selection, expected one of "
                   "\\('sift', 'sift_least', 'fixed', 'random'\\)"),
])
def test_reference_selection_words_mean_one_thing(mode, message):
    from rht_mmpose.utils.reference_selection import check_selection
    with pytest.raises(ValueError, match=message):
        check_selection(mode, 'dataset')
    assert check_selection('stm_match', 'model') == 'stm_match'
    with pytest.raises(ValueError, match='not a model reference selection'):
        check_selection('sift', 'model')
