"""Linear shape refiner: recovers a known linear relation, is equivariant
to similarity transforms, puts ridge-collapsed landmarks back, and names
bad input."""
import numpy as np
import pytest

from rht_mmpose.models.utils import apply_shape_refiner, fit_shape_refiner
from rht_mmpose.models.utils.shape_refiner import _frame, from_frame, to_frame


def similarity(shapes, rng):
    """Random rotation, scale and translation per face."""
    n = len(shapes)
    theta = rng.uniform(-0.6, 0.6, n)
    scale = rng.uniform(50, 200, n)
    rot = np.stack([np.stack([np.cos(theta), -np.sin(theta)], 1),
                    np.stack([np.sin(theta), np.cos(theta)], 1)], 1)
    shift = rng.uniform(-100, 400, (n, 2))
    return np.einsum('nij,nkj->nki', rot, shapes) * scale[:, None, None] \
        + shift[:, None]


def canonical_faces(n, rng):
    """5 landmarks: two anchors at (-0.5, 0) and (0.5, 0), three free."""
    free = rng.normal([[0, 0.5], [-0.3, 1.0], [0.3, 1.0]], 0.1, (n, 3, 2))
    anchors = np.broadcast_to([[-0.5, 0.], [0.5, 0.]], (n, 2, 2))
    return np.concatenate([anchors, free], axis=1)


def test_frame_round_trip():
    rng = np.random.default_rng(0)
    shapes = similarity(canonical_faces(7, rng), rng)
    frame = _frame(shapes, (0, 1))
    np.testing.assert_allclose(from_frame(to_frame(shapes, frame), frame),
                               shapes, atol=1e-9)
    # the anchors land on (-0.5, 0) and (0.5, 0)
    np.testing.assert_allclose(to_frame(shapes, frame)[:, :2],
                               np.broadcast_to([[-0.5, 0], [0.5, 0]],
                                               (7, 2, 2)), atol=1e-9)


def test_recovers_a_ridge_collapsed_landmark():
    # truth: landmark 4 a quarter of the way from 2 to 3; predicted: the
    # model puts it at their midpoint (a shared ridge's centre)
    rng = np.random.default_rng(1)
    truth = canonical_faces(300, rng)
    truth[:, 4] = truth[:, 2] + 0.25 * (truth[:, 3] - truth[:, 2])
    pred = truth.copy()
    pred[:, 4] = (truth[:, 2] + truth[:, 3]) / 2
    truth_img = similarity(truth, np.random.default_rng(2))
    pred_img = similarity(pred, np.random.default_rng(2))  # same transforms
    refiner = fit_shape_refiner(pred_img[:200], truth_img[:200], (0, 1),
                                ridge=0.)
    refined = apply_shape_refiner(pred_img[200:], refiner)
    before = np.abs(pred_img[200:, 4] - truth_img[200:, 4]).max()
    assert before > 1.0  # pixels: a real error before
    np.testing.assert_allclose(refined, truth_img[200:], atol=1e-6)


def test_equivariant_to_similarity_transforms():
    rng = np.random.default_rng(3)
    pred = canonical_faces(100, rng)
    gt = pred + rng.normal(0, 0.05, pred.shape)
    refiner = fit_shape_refiner(similarity(pred, rng), similarity(gt, rng),
                                (0, 1), ridge=0.1)
    test = canonical_faces(5, rng)
    a = similarity(test, np.random.default_rng(4))
    b = similarity(test, np.random.default_rng(5))
    # refine(T(x)) = T(refine(x)): both equal the canonical result mapped
    ra, rb = apply_shape_refiner(a, refiner), apply_shape_refiner(b, refiner)
    ca = to_frame(ra, _frame(a, (0, 1)))
    cb = to_frame(rb, _frame(b, (0, 1)))
    np.testing.assert_allclose(ca, cb, atol=1e-9)


def test_ridge_shrinks_towards_the_mean_correction():
    rng = np.random.default_rng(6)
    pred = similarity(canonical_faces(50, rng), rng)
    gt = pred + 3.0
    strong = fit_shape_refiner(pred, gt, (0, 1), ridge=1e9)
    assert np.abs(strong['weight']).max() < 1e-6
    # with W ~ 0 every face gets the mean truth shape of its frame
    out = apply_shape_refiner(pred[:3], strong)
    expected = from_frame(
        np.broadcast_to(strong['mean_gt'].reshape(5, 2), (3, 5, 2)),
        _frame(pred[:3], (0, 1)))
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_bad_input_is_named():
    rng = np.random.default_rng(7)
    pred = similarity(canonical_faces(10, rng), rng)
    with pytest.raises(ValueError, match=r'expected \(N, K, 2\)'):
        fit_shape_refiner(pred[..., 0], pred[..., 0])
    with pytest.raises(ValueError, match='differ'):
        fit_shape_refiner(pred, pred[:, :4])
    with pytest.raises(ValueError, match='ridge must be >= 0, got -1'):
        fit_shape_refiner(pred, pred, (0, 1), ridge=-1)
    same = pred.copy()
    same[3, 1] = same[3, 0]
    with pytest.raises(ValueError, match=r'anchor landmarks \(0, 1\) '
                       'coincide in 1 shape'):
        fit_shape_refiner(same, pred, (0, 1))
    refiner = fit_shape_refiner(pred, pred, (0, 1))
    with pytest.raises(ValueError, match='fitted for 5 landmarks, got '
                       'shapes of 4'):
        apply_shape_refiner(pred[:, :4], refiner)


def test_refiner_module_equals_the_fit_and_keeps_faces_without_a_frame():
    from rht_mmpose.models.utils import LinearShapeRefiner
    rng = np.random.default_rng(3)
    truth = similarity(canonical_faces(40, rng), rng)
    pred = truth + rng.normal(0, 0.5, truth.shape)
    fit = fit_shape_refiner(pred, truth, anchors=(0, 1), ridge=0.1)
    module = LinearShapeRefiner(num_keypoints=5, anchors=(0, 1))
    assert not module.fitted
    np.testing.assert_array_equal(module.refine(pred), pred)  # identity
    module.set_fit(fit)
    assert module.fitted
    shapes = pred[:3].astype(np.float32).copy()
    shapes[1, 1] = shapes[1, 0]  # anchors on one point: no frame
    out = module.refine(shapes)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[1], shapes[1])
    ok = [0, 2]
    np.testing.assert_allclose(
        out[ok], apply_shape_refiner(shapes[ok], fit), rtol=1e-5, atol=1e-4)
    # the fit survives a state-dict round trip
    fresh = LinearShapeRefiner(num_keypoints=5, anchors=(0, 1))
    fresh.load_state_dict(module.state_dict())
    np.testing.assert_array_equal(fresh.refine(shapes), out)


def test_refiner_module_bad_arguments():
    from rht_mmpose.models.utils import LinearShapeRefiner
    with pytest.raises(ValueError, match=r'anchors \(3, 3\) must be two '
                       r'different landmarks in \[0, 5\)'):
        LinearShapeRefiner(num_keypoints=5, anchors=(3, 3))
    with pytest.raises(ValueError, match='anchors'):
        LinearShapeRefiner(num_keypoints=5, anchors=(0, 7))
    module = LinearShapeRefiner(num_keypoints=5, anchors=(0, 1))
    with pytest.raises(ValueError, match='refiner fitted for 3 landmarks, '
                       'expected 5'):
        module.set_fit(dict(anchors=np.array([0, 1]), mean_pred=np.zeros(6),
                            mean_gt=np.zeros(6), weight=np.eye(6)))


def test_refiner_module_default_anchors_come_from_the_face_scheme():
    from rht_mmpose.codecs.face_schemes import get_face_scheme
    from rht_mmpose.models.utils import LinearShapeRefiner
    for scheme, k in (('300w', 68), ('wflw', 98), ('cofw', 29)):
        module = LinearShapeRefiner(num_keypoints=k)
        assert module.anchors.tolist() == list(
            get_face_scheme(scheme)['refiner_anchors'])
    assert LinearShapeRefiner(num_keypoints=68).anchors.tolist() == [36, 45]
