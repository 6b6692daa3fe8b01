"""RandomGrayscale, RandomGaussianBlur, RandomOcclusion."""
import numpy as np
import pytest
from mmpose.registry import TRANSFORMS


def _results(seed=0):
    rng = np.random.RandomState(seed)
    img = rng.randint(0, 256, (64, 64, 3)).astype(np.uint8)
    kpts = np.array([[[16., 20.], [40., 24.], [30., 44.]]], np.float32)
    return dict(img=img, transformed_keypoints=kpts,
                keypoints_visible=np.ones((1, 3), np.float32))


def test_grayscale():
    r = TRANSFORMS.build(dict(type='RandomGrayscale', prob=1.0))(_results())
    assert r['img'].shape == (64, 64, 3) and r['img'].dtype == np.uint8
    assert (r['img'][..., 0] == r['img'][..., 1]).all()
    assert (r['img'][..., 0] == r['img'][..., 2]).all()
    orig = _results()['img']
    r = TRANSFORMS.build(dict(type='RandomGrayscale', prob=0.0))(_results())
    assert (r['img'] == orig).all()


def test_blur_smooths():
    orig = _results()['img']
    r = TRANSFORMS.build(dict(type='RandomGaussianBlur', prob=1.0))(
        _results())
    assert r['img'].shape == orig.shape and r['img'].dtype == np.uint8
    assert np.diff(r['img'].astype(float), axis=1).std() < np.diff(
        orig.astype(float), axis=1).std() * 0.7
    with pytest.raises(ValueError, match='sigma_range'):
        TRANSFORMS.build(
            dict(type='RandomGaussianBlur', sigma_range=(2.0, 1.0)))


def test_occlusion_inside_face_box():
    t = TRANSFORMS.build(dict(type='RandomOcclusion', prob=1.0))
    np.random.seed(1)
    for seed in range(20):
        orig = _results(seed)['img']
        r = t(_results(seed))
        x0, y0, x1, y1 = r['occlusion_box'].astype(int)
        assert 16 <= x0 < x1 <= 41 and 20 <= y0 < y1 <= 45
        changed = (r['img'] != orig).any(-1)
        outside = np.ones_like(changed)
        outside[y0:y1, x0:x1] = False
        assert not changed[outside].any()
        assert changed.any()
    with pytest.raises(ValueError, match='prob'):
        TRANSFORMS.build(dict(type='RandomOcclusion', prob=1.5))
    r = TRANSFORMS.build(dict(type='RandomOcclusion', prob=0.0))(_results())
    assert 'occlusion_box' not in r
