"""tools/deployment/make_bundle.py: fp16 weights of the source checkpoint,
its config embedded without the stage-1 load_from, loadable alone."""
import sys

import pytest
import torch
from mmengine.config import Config

from tests.conftest import load_script
from tests.test_apis.small_model import SMOKE_CONFIG, save_small_checkpoint


def test_bundle_weights_config_and_reload(tmp_path, monkeypatch):
    stage2 = tmp_path / 'stage2.py'
    stage2.write_text(f"_base_ = [{SMOKE_CONFIG!r}]\n"
                      "load_from = 'work_dirs/stage1/epoch_40.pth'\n")
    source = save_small_checkpoint(str(tmp_path / 'epoch_20.pth'))
    out = tmp_path / 'bundle.pth'
    make_bundle = load_script('tools/deployment/make_bundle.py',
                              'rht_make_bundle')
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', str(stage2), source, '--out', str(out)])
    make_bundle.main()

    bundle = torch.load(str(out), map_location='cpu')
    src = torch.load(source, map_location='cpu')['state_dict']
    assert set(bundle['state_dict']) == set(src)
    for name, value in src.items():
        got = bundle['state_dict'][name]
        if value.is_floating_point():
            assert got.dtype == torch.float16, name
            assert torch.equal(got, value.half()), name
        else:
            assert torch.equal(got, value), name
    cfg = Config.fromstring(bundle['meta']['cfg'], '.py')
    assert cfg.load_from is None
    assert bundle['meta']['source_checkpoint'] == 'epoch_20.pth'
    assert not (tmp_path / 'bundle.pth.tmp').exists()

    from rht_mmpose.apis import init_face_model
    model = init_face_model(None, str(out), device='cpu')
    for name, value in model.state_dict().items():
        if name in src and value.is_floating_point():
            torch.testing.assert_close(value, src[name].half().float())


def test_bundle_shape_refiner_is_applied_by_inference_faces(
        tmp_path, monkeypatch, data_root):
    import os.path as osp

    import cv2
    import numpy as np

    from rht_mmpose.apis import inference_faces, init_face_model
    from rht_mmpose.evaluation.shape_refiner import (_frame, from_frame,
                                                     to_frame)
    source = save_small_checkpoint(str(tmp_path / 'epoch_20.pth'))
    k = 68
    offset = np.zeros((k, 2))
    offset[30] = [0.0, 0.25]  # move the nose tip down a quarter of the IOD
    refiner_path = tmp_path / 'r.refiner.npz'
    np.savez(refiner_path, anchors=np.array([36, 45]),
             mean_pred=np.zeros(2 * k), mean_gt=offset.ravel(),
             weight=np.eye(2 * k))
    out = tmp_path / 'bundle.pth'
    make_bundle = load_script('tools/deployment/make_bundle.py',
                              'rht_make_bundle_refiner')
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', SMOKE_CONFIG, source, '--out', str(out),
        '--shape-refiner', str(refiner_path)])
    make_bundle.main()

    model = init_face_model(None, str(out), device='cpu')
    img = cv2.imread(osp.join(data_root, 'demo_images', 'astronaut.png'))
    box = np.array([[150, 60, 260, 190]], dtype=np.float32)
    raw = inference_faces(model, img, box, refine=False)[0]
    refined = inference_faces(model, img, box)[0]
    raw_k = raw.pred_instances.keypoints.astype(np.float64)  # (1, K, 2)
    frame = _frame(raw_k, (36, 45))
    expected = from_frame(to_frame(raw_k, frame) + offset, frame)
    np.testing.assert_allclose(refined.pred_instances.keypoints, expected,
                               rtol=1e-4, atol=1e-3)
    assert not np.allclose(refined.pred_instances.keypoints[0, 30],
                           raw_k[0, 30], atol=1e-3)

    bad = tmp_path / 'bad.refiner.npz'
    np.savez(bad, anchors=np.array([0, 1]), mean_pred=np.zeros(10),
             mean_gt=np.zeros(10), weight=np.eye(10))
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', SMOKE_CONFIG, source, '--out',
        str(tmp_path / 'b2.pth'), '--shape-refiner', str(bad)])
    with pytest.raises(ValueError, match='fitted for 5 landmarks, the model '
                       'has 68'):
        make_bundle.main()


def test_refiner_skips_a_face_without_a_frame(tmp_path, data_root):
    import os.path as osp

    import cv2
    import numpy as np

    from rht_mmpose.apis import inference_faces, init_face_model
    model = init_face_model(
        None, save_small_checkpoint(str(tmp_path / 'm.pth')), device='cpu')
    k = 68
    # anchors 5 and 5 always coincide: no frame, the raw shape is kept
    model.shape_refiner = dict(anchors=np.array([5, 5]),
                               mean_pred=np.zeros(2 * k),
                               mean_gt=np.ones(2 * k), weight=np.eye(2 * k))
    img = cv2.imread(osp.join(data_root, 'demo_images', 'astronaut.png'))
    box = np.array([[150, 60, 260, 190]], dtype=np.float32)
    refined = inference_faces(model, img, box)[0].pred_instances.keypoints
    raw = inference_faces(model, img, box,
                          refine=False)[0].pred_instances.keypoints
    np.testing.assert_array_equal(refined, raw)
