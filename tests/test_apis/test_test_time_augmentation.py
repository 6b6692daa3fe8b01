"""Test-time augmentation: the fixed views (``FixedBBoxTransform``), the
keypoints of a turned crop mapped back (``unturn_keypoints``), their mean
(``FaceTTAModel``), ``tools/test.py --tta`` and ``FaceLandmarker(tta=True)``,
which take the same views from the config by two different roads (mmcv's
``TestTimeAug`` pipeline, scaled boxes and crop angles) and must agree."""
import os.path as osp
import pickle
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpose.structures import PoseDataSample
from mmengine.structures import InstanceData

from rht_mmpose.apis import FaceLandmarker, init_face_model, landmark_box
from rht_mmpose.datasets.transforms import FixedBBoxTransform
from rht_mmpose.models import FaceTTAModel
from rht_mmpose.utils.errors import FaceInputError
from rht_mmpose.utils.face_geometry import tta_views, unturn_keypoints
from rht_mmpose.utils.io import read_face_points
from tests.conftest import REPO_ROOT

SHIPPED_CONFIG = osp.join(REPO_ROOT, 'configs', 'rht_mnv2_300w.py')
# the shipped views: the crop, 0.9x / 1.1x, turned -10 / +10 degrees
SHIPPED_VIEWS = [(1.0, 0.), (0.9, 0.), (1.1, 0.), (1.0, -10.), (1.0, 10.)]


def test_fixed_bbox_transform_scales_and_turns_the_box():
    results = dict(bbox_center=np.array([[50., 40.]]),
                   bbox_scale=np.array([[80., 100.]]))
    out = FixedBBoxTransform(scale_factor=1.1, rotation=-10)(results)
    np.testing.assert_allclose(out['bbox_scale'], [[88., 110.]])
    np.testing.assert_allclose(out['bbox_center'], [[50., 40.]])
    np.testing.assert_array_equal(out['bbox_rotation'], [-10.])
    with pytest.raises(ValueError, match='scale_factor must be > 0, got 0'):
        FixedBBoxTransform(scale_factor=0)
    with pytest.raises(KeyError, match='after GetBBoxCenterScale'):
        FixedBBoxTransform()(dict(bbox_center=np.zeros((1, 2))))


def rotation(deg):
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def test_unturn_keypoints_undoes_a_turned_crop_by_hand():
    """mmpose's get_warp_matrix(c, s, rot) sends the image direction
    R(rot) v to the crop direction v: crop = R(-rot) (p - c) k + size / 2
    (k = size / scale). The model then maps the crop back unturned:
    p' = crop / k + c - scale / 2. unturn_keypoints must return p."""
    meta = dict(input_center=np.array([120., 90.]),
                input_scale=np.array([64., 64.]), input_size=(192, 192))
    points = np.array([[[130., 70.], [100., 95.], [121., 91.]]])
    for rot in (0., 10., -25.):
        k = 192 / 64.
        crop = (points[0] - meta['input_center']) @ rotation(-rot).T * k \
            + 96.
        mapped = crop / k + meta['input_center'] - 32.
        got = unturn_keypoints(mapped[None], meta, rot)
        np.testing.assert_allclose(got, points, atol=1e-3)


def sample(keypoints, scores, rotation_deg, with_rotation=True):
    s = PoseDataSample()
    meta = dict(input_center=np.array([50., 50.]),
                input_scale=np.array([40., 40.]), input_size=(192, 192))
    if with_rotation:
        meta['bbox_rotation'] = np.array([rotation_deg], np.float32)
    s.set_metainfo(meta)
    s.pred_instances = InstanceData(
        keypoints=np.asarray(keypoints, np.float32)[None],
        keypoint_scores=np.asarray(scores, np.float32)[None])
    return s


class ViewsOnly(torch.nn.Module):
    """A module for FaceTTAModel's merge alone (never run)."""

    def test_step(self, data):
        raise AssertionError('not run here')


def test_tta_model_averages_views_mapped_back():
    """Two unturned views average as they are; a turned view is first
    mapped back (by hand: turned about the crop centre by the rotation)."""
    tta = FaceTTAModel(module=ViewsOnly())
    a, b = np.array([[40., 45.], [60., 50.]]), np.array([[42., 47.],
                                                         [58., 52.]])
    merged = tta.merge_preds([[sample(a, [0.5, 1.], 0),
                               sample(b, [1., 0.], 0)]])[0]
    np.testing.assert_allclose(merged.pred_instances.keypoints[0],
                               (a + b) / 2, atol=1e-5)
    np.testing.assert_allclose(merged.pred_instances.keypoint_scores[0],
                               [0.75, 0.5])
    # a 90 degree view: the model's unturned output is the point turned
    # by -90 degrees about the crop centre (50, 50)
    turned = (a - 50.) @ rotation(-90.).T + 50.
    merged = tta.merge_preds([[sample(a, [1., 1.], 0),
                               sample(turned, [1., 1.], 90.)]])[0]
    np.testing.assert_allclose(merged.pred_instances.keypoints[0], a,
                               atol=1e-3)
    with pytest.raises(KeyError, match="add 'bbox_rotation' to the "
                       'meta_keys'):
        tta.merge_preds([[sample(a, [1., 1.], 0, with_rotation=False)]])


def tta_cfg(*lists):
    return Config(dict(tta_pipeline=[
        dict(type='LoadImage'),
        dict(type='TestTimeAug', transforms=[
            *lists, [dict(type='PackPoseInputs')]])]))


def test_tta_views_read_from_the_config():
    assert tta_views(Config.fromfile(SHIPPED_CONFIG)) == SHIPPED_VIEWS
    fixed = 'FixedBBoxTransform'
    # two lists: every combination, scales multiply, the last turn counts
    views = tta_views(tta_cfg(
        [dict(type=fixed, scale_factor=0.5), dict(type=fixed)],
        [dict(type=fixed, rotation=5.), dict(type=fixed, scale_factor=3.,
                                             rotation=-5.)]))
    assert views == [(0.5, 5.), (1.5, -5.), (1.0, 5.), (3.0, -5.)]
    with pytest.raises(FaceInputError, match='no tta_pipeline'):
        tta_views(Config(dict(model=dict())))
    with pytest.raises(FaceInputError, match='only FixedBBoxTransform'):
        tta_views(tta_cfg([dict(type='RandomFlip'), dict(type=fixed)]))
    with pytest.raises(FaceInputError, match='no FixedBBoxTransform'):
        tta_views(tta_cfg([dict(type='TopdownAffine')]))


def test_tools_test_tta_is_the_landmarkers_tta(data_root, tmp_path):
    """tools/test.py --tta (mmcv's TestTimeAug, FaceTTAModel) on the first
    three test faces gives the keypoints of FaceLandmarker(tta=True)
    with the model's own settings on their ground-truth landmark boxes
    (scaled boxes and crop angles), in both backends; the mean of the five
    views is as accurate as one view."""
    dump = tmp_path / 'tta.pkl'
    proc = subprocess.run([
        sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'),
        SHIPPED_CONFIG, osp.join(REPO_ROOT, 'checkpoints',
                                 'rht_mnv2_300w.pth'),
        '--tta', '--dump', str(dump), '--work-dir', str(tmp_path / 'w'),
        '--cfg-options', 'test_dataloader.dataset.indices=3'
    ], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(dump, 'rb') as f:  # keyed by folder/split/name
        dumped = {
            '/'.join(osp.splitext(d['img_path'])[0].split(osp.sep)[-3:]):
            d['pred_instances']['keypoints'][0]
            for d in pickle.load(f)
        }
    assert len(dumped) == 3, sorted(dumped)
    model = init_face_model()
    landmarkers = {b: FaceLandmarker(model=model, fast=False, tta=True,
                                     backend=b) for b in ('mmpose', 'hybrid')}
    single = FaceLandmarker(model=model, fast=False, backend='mmpose')
    errors = {}
    for stem in dumped:
        img = cv2.imread(osp.join(data_root, '300w_subset', stem + '.jpg'))
        gt = read_face_points(osp.join(data_root, '300w_subset',
                                       stem + '.pts'))
        box = landmark_box(gt)[None]
        iod = np.linalg.norm(gt[36] - gt[45])
        for name, lm in landmarkers.items():
            kpts = lm.predict(img, box)[0]['keypoints']
            assert np.abs(kpts - dumped[stem]).max() < 0.1, (name, stem)
        one = single.predict(img, box)[0]['keypoints']
        errors[stem] = [np.linalg.norm(k - gt, axis=1).mean() / iod
                        for k in (dumped[stem], one)]
    tta_nme, one_nme = np.mean(list(errors.values()), axis=0)
    assert tta_nme < one_nme + 0.002, errors
    assert tta_nme < 0.05, errors


def test_tools_test_tta_names_what_a_config_lacks(tmp_path):
    proc = subprocess.run([
        sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'),
        osp.join(REPO_ROOT, 'configs', 'rht_res18_s_match_300w.py'),
        osp.join(REPO_ROOT, 'checkpoints', 'rht_res18_s_match_300w.pth'),
        '--tta', '--work-dir', str(tmp_path)
    ], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'has no tta_model / tta_pipeline' in proc.stderr
