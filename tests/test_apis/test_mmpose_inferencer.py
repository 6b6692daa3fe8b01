"""MMPose's own entry point on the bundled model: ``MMPoseInferencer``
(behind MMPose's ``demo/inferencer_demo.py``) with the offline MTCNN face
detector config gives the faces and keypoints of
``FaceLandmarker(backend='mmpose', fast=False)``."""
import os.path as osp

import cv2
import numpy as np
import pytest

from rht_mmpose.apis import (BUNDLED_CHECKPOINT, BUNDLED_CONFIG,
                             MTCNN_DET_CONFIG, FaceLandmarker)
from tests.test_apis.test_face_landmarker import rotate_about

PARITY_PX = 0.1


@pytest.fixture(scope='module')
def inferencer():
    from mmpose.apis import MMPoseInferencer
    return MMPoseInferencer(
        pose2d=BUNDLED_CONFIG, pose2d_weights=BUNDLED_CHECKPOINT,
        det_model=MTCNN_DET_CONFIG, det_cat_ids=[0], device='cpu')


@pytest.fixture(scope='module')
def landmarker():
    return FaceLandmarker(backend='mmpose', fast=False)


def photos(data_root):
    """t1.jpg (6 faces), a HELEN test photo, and that photo turned 40
    degrees about its face."""
    t1 = cv2.imread(osp.join(data_root, 'demo_images', 't1.jpg'))
    helen = cv2.imread(osp.join(data_root, '300w_subset', 'helen',
                                'testset', '296814969_3.jpg'))
    h, w = helen.shape[:2]
    turned, _ = rotate_about(helen, np.zeros((1, 2)), (w / 2, h / 2), 40.)
    return dict(t1=(t1, 6), helen=(helen, 1), turned=(turned, 1))


@pytest.mark.parametrize('name', ['t1', 'helen', 'turned'])
def test_inferencer_gives_the_landmarkers_faces(name, inferencer, landmarker,
                                                data_root):
    img, num_faces = photos(data_root)[name]
    result = next(inferencer(img, return_datasamples=True))
    pred = result['predictions'][0].pred_instances
    faces = landmarker(img)
    assert len(faces) == len(pred.keypoints) >= num_faces
    np.testing.assert_allclose(pred.bboxes, [f['box'] for f in faces],
                               atol=1e-3)
    err = np.abs(pred.keypoints - [f['keypoints'] for f in faces]).max()
    assert err < PARITY_PX, err


def test_configs_carry_what_the_inferencer_reads():
    """Every shipped and paper config (configs/*.py) names a registered
    dataset and says it is top-down."""
    import glob

    from mmengine import Config
    from mmpose.registry import DATASETS
    root = osp.dirname(BUNDLED_CONFIG)
    for path in sorted(glob.glob(osp.join(root, '*.py'))):
        cfg = Config.fromfile(path)
        assert cfg.get('data_mode') == 'topdown', path
        assert DATASETS.get(cfg.get('dataset_type')) is not None, path
