"""Bad annotations are rejected at build time with their id; bad reference
pools fail at build time naming the pool and the numbers."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from mmpose.registry import DATASETS

from rht_mmpose.datasets import (AnnotationError, PairedReferenceDataset,
                                 convert)


def coco_cfg(root, ann):
    return dict(type='Face300WDataset', ann_file=ann, data_root=root,
                data_prefix=dict(img=''), test_mode=True)


def pts_cfg(root, folder, **kw):
    return dict(type='Face300WPtsDataset', data_root=root,
                pts_folders=[folder], cache_dir=osp.join(root, 'cache'),
                test_mode=True, **kw)


def paired(dataset, codec, pipeline, **kw):
    return PairedReferenceDataset(
        dataset=dataset, pipeline=pipeline, codec=codec,
        ref_input_size=(32, 32), cache_dir=None,
        sift_cfg=dict(progress=False), **kw)


def edited_json(root, tmp_path, edit):
    """faces/ converted to COCO json, annotation id 3 passed to edit."""
    ann = str(tmp_path / 'faces.json')
    coco = convert(['faces'], ann, root, progress=False)
    edit(next(a for a in coco['annotations'] if a['id'] == 3))
    with open(ann, 'w') as f:
        json.dump(coco, f)
    return ann


def drop_point(a):
    a['keypoints'] = a['keypoints'][:-3]


def nan_point(a):
    a['keypoints'][3 * 7] = float('nan')


def empty_box(a):
    a['scale'] = 0.0


@pytest.mark.parametrize('edit, what', [
    (drop_point, '67 keypoints, expected 68'),
    (nan_point, r'non-finite coordinates at keypoint\(s\) \[7\]'),
    (empty_box, None),
])
def test_bad_annotation_in_dataset_or_pool(small_root, small_codec,
                                           small_pipeline, tmp_path, edit,
                                           what):
    ann = edited_json(small_root, tmp_path, edit)
    pattern = rf'annotation id=3 \(img_id=3, .*\.jpg\) in ' \
              rf'Face300WDataset\(ann_file=.*faces\.json.*\): {what}'
    if edit is empty_box:  # MMPose drops it while loading: found anyway
        pattern = r'1 annotation\(s\) in Face300WDataset\(ann_file=.*' \
                  r'faces\.json.*\) have an empty box .*: annotation ' \
                  r'id=3 \(faces/.*\.jpg\): empty box: scale 0.0'
    with pytest.raises(AnnotationError, match=pattern):
        paired(coco_cfg(small_root, ann), small_codec, small_pipeline)
    with pytest.raises(AnnotationError, match=pattern):
        paired(pts_cfg(small_root, 'pool'), small_codec, small_pipeline,
               ref_pool=coco_cfg(small_root, ann))
    # the check can be turned off (then it is the user's problem)
    if edit is not drop_point:
        paired(coco_cfg(small_root, ann), small_codec, small_pipeline,
               check_annotations=False)


def test_pts_dataset_checks_a_stale_cached_json(small_root, tmp_path):
    DATASETS.build(pts_cfg(small_root, 'faces'))
    cached = glob.glob(osp.join(small_root, 'cache', '*.json'))[0]
    with open(cached) as f:
        coco = json.load(f)
    nan_point(coco['annotations'][1])
    with open(cached, 'w') as f:
        json.dump(coco, f)
    with pytest.raises(AnnotationError, match=r'annotation id=2 .* in '
                       r"Face300WPtsDataset\(.*pts_folders=\['faces'\]"):
        DATASETS.build(pts_cfg(small_root, 'faces'))


def test_pts_converter_rejects_an_empty_box(small_root, tmp_path):
    from rht_mmpose.datasets import PtsFormatError
    from tests.test_datasets.conftest import write_pts
    pts = sorted(glob.glob(osp.join(small_root, 'faces', '*.pts')))[1]
    write_pts(pts, np.full((68, 2), 10.0))
    out = str(tmp_path / 'x.json')
    with pytest.raises(PtsFormatError, match=rf'{pts}: empty landmark box'):
        convert(['faces'], out, small_root, progress=False)
    assert not osp.exists(out)


def test_pool_errors_name_the_pool(small_root, small_codec, small_pipeline,
                                   tmp_path):
    with pytest.raises(ValueError, match=r"reference pool Face300WPtsDataset"
                       r"\(.*pts_folders=\['pool'\].*data_root=.*\) is "
                       r'empty \(0 faces\)'):
        paired(pts_cfg(small_root, 'faces'), small_codec, small_pipeline,
               ref_pool=pts_cfg(small_root, 'pool', indices=0,
                                serialize_data=False))

    def invisible(a):
        a['keypoints'][2::3] = [0] * 68
    ann = str(tmp_path / 'pool.json')
    coco = convert(['pool'], ann, small_root, progress=False)
    for a in coco['annotations']:
        invisible(a)
    with open(ann, 'w') as f:
        json.dump(coco, f)
    with pytest.raises(ValueError, match=r'reference pool Face300WDataset\('
                       r'ann_file=.*pool\.json.*\) has 3 faces but none '
                       r'with a visible keypoint'):
        paired(pts_cfg(small_root, 'faces'), small_codec, small_pipeline,
               ref_pool=coco_cfg(small_root, ann))


@pytest.mark.parametrize('mode', ['random', 'sift', 'fixed'])
def test_pool_of_the_target_alone_is_an_error(small_root, small_codec,
                                              small_pipeline, mode):
    kw = dict(ref_index=0) if mode == 'fixed' else {}
    one = pts_cfg(small_root, 'faces', indices=[0])
    with pytest.raises(ValueError, match=r'has 1 usable face\(s\), all of '
                       r'them the target itself .* for 1 target\(s\): 0 '
                       r'\(.*\.jpg\).*allow_self=True'):
        paired(one, small_codec, small_pipeline, ref_mode=mode, **kw)
    # allowed on purpose: the face is its own reference
    ds = paired(one, small_codec, small_pipeline, ref_mode=mode,
                allow_self=True, **kw)
    assert ds[0]['data_samples'].metainfo['ref_index'] == 0


def test_external_pool_holding_only_the_targets_image(
        small_root, small_codec, small_pipeline):
    # the pool is face 0 of the dataset (same file); the other targets may
    # use it, target 0 has nothing left
    with pytest.raises(ValueError, match=r'for 1 target\(s\): 0 \('):
        paired(pts_cfg(small_root, 'faces'), small_codec, small_pipeline,
               ref_pool=pts_cfg(small_root, 'faces', indices=[0]))
    ds = paired(pts_cfg(small_root, 'faces', indices=[1, 2]), small_codec,
                small_pipeline,
                ref_pool=pts_cfg(small_root, 'faces', indices=[0]))
    assert not ds.self_pool
    assert {ds.select_reference(i) for i in range(2)} == {0}
