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


def refiner_config(tmp_path):
    """The smoke model as an RHTPoseEstimator (no reference branch) with a
    shape refiner declared."""
    cfg = tmp_path / 'refined.py'
    cfg.write_text(
        f"_base_ = [{SMOKE_CONFIG!r}]\n"
        "model = dict(type='RHTPoseEstimator', shape_refiner=dict("
        "type='LinearShapeRefiner', num_keypoints=68, anchors=(36, 45)))\n"
        # mmpose's init_model runs the test pipeline as it is: no targets
        "test_dataloader = dict(dataset=dict(pipeline=["
        "dict(type='LoadImage'), dict(type='GetBBoxCenterScale', "
        "padding=1.25), dict(type='TopdownAffine', input_size=(64, 64)), "
        "dict(type='PackPoseInputs')]))\n")
    return str(cfg)


def test_bundle_shape_refiner_is_applied_by_the_model(
        tmp_path, monkeypatch, data_root):
    """make_bundle puts the refiner in the state dict; mmpose's own
    init_model + inference_topdown, the API and tools/test.py all get the
    refined keypoints from the model's predict."""
    import os.path as osp

    import cv2
    import numpy as np
    from mmpose.apis import inference_topdown, init_model

    from rht_mmpose.apis import inference_faces, init_face_model
    from rht_mmpose.models.utils.shape_refiner import (_frame, from_frame,
                                                       to_frame)
    source = save_small_checkpoint(str(tmp_path / 'epoch_20.pth'))
    config = refiner_config(tmp_path)
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
        'make_bundle.py', config, source, '--out', str(out),
        '--shape-refiner', str(refiner_path)])
    make_bundle.main()
    state = torch.load(str(out), map_location='cpu')['state_dict']
    assert state['shape_refiner.weight'].dtype == torch.float64

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

    plain = init_model(config, str(out), device='cpu')
    mm = inference_topdown(plain, img, box)[0].pred_instances.keypoints
    np.testing.assert_allclose(mm, refined.pred_instances.keypoints,
                               atol=1e-2)

    bad = tmp_path / 'bad.refiner.npz'
    np.savez(bad, anchors=np.array([0, 1]), mean_pred=np.zeros(10),
             mean_gt=np.zeros(10), weight=np.eye(10))
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', config, source, '--out',
        str(tmp_path / 'b2.pth'), '--shape-refiner', str(bad)])
    with pytest.raises(ValueError, match='refiner fitted for 5 landmarks, '
                       'expected 68'):
        make_bundle.main()
    assert not (tmp_path / 'b2.pth').exists()
    # a model whose config declares no refiner refuses one
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', SMOKE_CONFIG, source, '--out',
        str(tmp_path / 'b3.pth'), '--shape-refiner', str(refiner_path)])
    with pytest.raises(ValueError, match='the config declares none'):
        make_bundle.main()


def test_legacy_bundle_is_refused_with_the_upgrade_command(tmp_path):
    from rht_mmpose.apis import FaceInputError, init_face_model
    source = save_small_checkpoint(str(tmp_path / 'm.pth'))
    ckpt = torch.load(source, map_location='cpu')
    ckpt.setdefault('meta', {})['shape_refiner'] = dict(weight=[[1.0]])
    legacy = tmp_path / 'legacy.pth'
    torch.save(ckpt, str(legacy))
    with pytest.raises(FaceInputError, match='make_bundle.py --upgrade'):
        init_face_model(None, str(legacy))


def test_pool_exclude_leaves_out_exactly_the_listed_faces(tmp_path):
    """--pool-exclude: the validation faces of a split file never reach the
    pool; a file that lists none of the candidates is an error."""
    exclude_listed = load_script('tools/deployment/make_bundle.py',
                                 'rht_make_bundle').exclude_listed
    images = [str(tmp_path / 'afw' / f'{i}_1.jpg') for i in (0, 1, 2, 11)] + \
        [str(tmp_path / 'lfpw' / 'trainset' / f'{i}_1.jpg') for i in range(3)]
    keypoints = list(range(len(images)))
    split = tmp_path / 'val.txt'
    split.write_text('# two faces\nafw/1_1.jpg\nlfpw/trainset/2_1.jpg\n'
                     'helen/trainset/9_1.jpg\n')
    kept_images, kept_kpts = exclude_listed(images, keypoints, str(split))
    expected = [i for i, p in enumerate(images)
                if not (p.endswith('afw/1_1.jpg')
                        or p.endswith('lfpw/trainset/2_1.jpg'))]
    assert kept_kpts == expected
    assert kept_images == [images[i] for i in expected]
    assert images[3] in kept_images  # 'afw/11_1.jpg' is not 'afw/1_1.jpg'
    other = tmp_path / 'other.txt'
    other.write_text('helen/trainset/9_1.jpg\n')
    with pytest.raises(SystemExit, match='none of its 1 faces'):
        exclude_listed(images, keypoints, str(other))


def test_a_carried_pool_gets_descriptors_of_the_bundled_weights(
        tmp_path, monkeypatch, data_root):
    """A trained checkpoint whose pool came through load_from carries the
    descriptors of the earlier weights (zeroed here): without --pool-dir
    the bundle keeps the pool's faces and recomputes its descriptors with
    the weights it ships."""
    from tests.test_apis.small_model import (save_small_rht_checkpoint,
                                             small_rht_config)
    source = save_small_rht_checkpoint(str(tmp_path / 'epoch_12.pth'),
                                       data_root)
    ckpt = torch.load(source, map_location='cpu')
    faces = ckpt['state_dict']['reference_pool.images'].clone()
    ckpt['state_dict']['reference_pool.descriptors'].zero_()
    torch.save(ckpt, source)
    config = tmp_path / 'rht.py'
    small_rht_config().dump(str(config))
    out = tmp_path / 'bundle.pth'
    make_bundle = load_script('tools/deployment/make_bundle.py',
                              'rht_make_bundle')
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', str(config), source, '--out', str(out)])
    make_bundle.main()

    from rht_mmpose.apis import init_face_model
    model = init_face_model(None, str(out), device='cpu')
    pool = model.reference_pool
    assert torch.equal(pool.images, faces)
    assert pool.descriptors.abs().sum() > 0
    with torch.no_grad():
        want = model.head.global_descriptor(pool.normalize(pool.images))
    torch.testing.assert_close(pool.descriptors, want.float(), atol=2e-3,
                               rtol=2e-3)
