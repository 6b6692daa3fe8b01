"""The RHT extras of the inference API on a tiny untrained RHT model whose
built-in pool holds 3 real AFW faces."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from rht_mmpose.apis import (HaarFaceDetector, get_reference_used,
                             inference_faces, init_face_model,
                             set_user_reference_pool)
from rht_mmpose.utils.io import read_pts
from tests.test_apis.small_model import save_small_rht_checkpoint


@pytest.fixture(scope='module')
def rht_model(data_root, tmp_path_factory):
    ckpt = save_small_rht_checkpoint(
        str(tmp_path_factory.mktemp('rht') / 'rht.pth'), data_root)
    return init_face_model(None, ckpt)


def test_pool_is_loaded_and_used(rht_model, data_root):
    assert rht_model.pool_size == 3
    img = cv2.imread(osp.join(data_root, 'demo_images', 't1.jpg'))
    boxes = HaarFaceDetector()(img)
    samples = inference_faces(rht_model, img, boxes, return_heatmaps=True)
    assert len(samples) == len(boxes)
    for s in samples:
        assert s.pred_instances.keypoints.shape == (1, 68, 2)
        assert s.pred_fields.heatmaps.shape[0] == 68 + 13
        ref = get_reference_used(rht_model, s)
        (i, ) = ref['index']
        assert 0 <= i < 3
        np.testing.assert_array_equal(
            ref['image'],
            rht_model.reference_pool.images[i].permute(1, 2, 0).numpy())
        assert ref['heatmaps'].shape == (81, 32, 32)


def test_user_pool_replaces_the_built_in_one(rht_model, data_root):
    files = sorted(glob.glob(osp.join(data_root, '300w_subset', 'helen',
                                      'trainset', '*.jpg')))[:2]
    pool = set_user_reference_pool(
        rht_model,
        dict(images=files, keypoints=[read_pts(f[:-4] + '.pts')
                                      for f in files]))
    assert rht_model.pool_size == 2
    np.testing.assert_array_equal(
        rht_model.reference_pool.images.permute(0, 2, 3, 1).numpy(), pool['images'])
    np.testing.assert_allclose(
        rht_model.reference_pool.heatmaps.float().numpy(), pool['heatmaps'], atol=1e-3)
    # the rendered landmark channels peak at the landmarks (32 px maps)
    kpts = pool['keypoints'][0]
    for k in (36, 45, 30):
        y, x = np.unravel_index(pool['heatmaps'][0, k].argmax(), (32, 32))
        assert abs(x - kpts[k, 0]) <= 0.5 + 1e-4
        assert abs(y - kpts[k, 1]) <= 0.5 + 1e-4
    img = cv2.imread(osp.join(data_root, 'demo_images', 'astronaut.png'))
    sample = inference_faces(rht_model, img)[0]
    assert get_reference_used(rht_model, sample)['index'][0] in (0, 1)
    with torch.no_grad():
        assert torch.isfinite(
            torch.as_tensor(sample.pred_instances.keypoints)).all()
