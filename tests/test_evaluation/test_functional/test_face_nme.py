"""The functional NME / FR / AUC: hand-made faces, and the same numbers
as FaceNMEMetric on the same predictions."""
import numpy as np
import pytest

from rht_mmpose.evaluation import (FaceNMEMetric, auc_fr, face_nme,
                                   nme_summary)


def face68(seed=0):
    """A 68-point face with its outer eye corners (36, 45) 40 px apart and
    eye contours whose centres are 30 px apart."""
    gt = np.random.default_rng(seed).uniform(0, 100, (68, 2))
    gt[36], gt[45] = (10., 50.), (50., 50.)
    gt[37:42] = (20., 50.)  # left contour centre (18.33.., 50)
    gt[42:45] = gt[46:48] = (40., 50.)
    return gt


def test_nme_over_the_eye_distance_by_hand():
    gt = face68()
    pred = gt + [3., 4.]  # every point 5 px off
    np.testing.assert_allclose(face_nme(pred, gt), [5 / 40])
    left, right = gt[36:42].mean(0), gt[42:48].mean(0)
    np.testing.assert_allclose(face_nme(pred, gt, 'inter_pupil'),
                               [5 / np.linalg.norm(left - right)])
    np.testing.assert_allclose(face_nme(pred, gt, eyes=[[0], [1]]),
                               [5 / np.linalg.norm(gt[0] - gt[1])])
    with pytest.raises(ValueError, match="norm_mode 'box'"):
        face_nme(pred, gt, 'box')


def test_summary_fr_and_auc_by_hand():
    errors = np.array([0.02, 0.05, 0.2])
    # AUC@0.1 = mean(max(0, 1 - e / 0.1)) = (0.8 + 0.5 + 0) / 3
    assert auc_fr(errors, 0.1) == pytest.approx(dict(auc=1.3 / 3, fr=1 / 3))
    s = nme_summary(errors, errors * 2)
    assert s == pytest.approx({'faces': 3, 'NME_io': 0.09, 'NME_ip': 0.18,
                               'FR@0.1': 1 / 3, 'AUC@0.1': 1.3 / 3})


def test_the_metric_gives_the_functional_numbers():
    gts = np.stack([face68(s) for s in range(4)])
    preds = gts + np.random.default_rng(9).normal(0, 3, gts.shape)
    metric = FaceNMEMetric(norm_mode=['inter_ocular', 'inter_pupil'],
                           save_per_image=False)
    metric.dataset_meta = dict(dataset_name='300w', num_keypoints=68)
    results = [dict(pred_coords=p, gt_coords=g, mask=np.ones(68, bool),
                    img_id=i, img_path=f'{i}.jpg', subsets=[])
               for i, (p, g) in enumerate(zip(preds, gts))]
    got = metric.compute_metrics(results)
    want = nme_summary(face_nme(preds, gts), face_nme(preds, gts,
                                                      'inter_pupil'))
    for key in ('NME_io', 'NME_ip', 'FR@0.1', 'AUC@0.1'):
        assert got[key] == pytest.approx(want[key]), key
