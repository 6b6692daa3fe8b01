"""The demo as a new user runs it: ``python demo/face_demo.py t1.jpg`` (the
bundled model, MTCNN, the fast path) finds the six faces of the group
photo and nothing on the hands."""
import json
import os.path as osp

import numpy as np
import pytest

from rht_mmpose.apis import box_iou
from tests.conftest import load_script

# Hand-marked in t1.jpg (1280 x 886) from 3x crops with a 10-pixel grid,
# in the landmark-box convention of the model (brows to chin, cheek to
# cheek; x1, y1, x2, y2):
T1_FACES = {
    'woman left, looking down at her cards': (65, 285, 172, 392),
    'woman behind, looking down': (275, 178, 372, 262),
    'man centre, smiling': (468, 300, 575, 398),
    'man in red, laughing': (748, 382, 852, 475),
    'man standing, turned to the left': (910, 98, 1015, 206),
    'woman right, eyes closed': (1137, 307, 1222, 400),
}
# the hands, with what they hold: the centre man's hand with a card by his
# shoulder is the one the Haar cascade took for a face
T1_HANDS = {
    'centre man, card by his shoulder': (600, 410, 685, 505),
    'man in red, blue chip': (700, 495, 785, 585),
    'woman left, cards': (130, 380, 260, 500),
    'woman right, left hand': (985, 425, 1095, 515),
    'woman right, cards': (1130, 530, 1262, 625),
}
MATCH_IOU = 0.5


@pytest.fixture(scope='module')
def t1_result(data_root, tmp_path_factory):
    demo = load_script(osp.join('demo', 'face_demo.py'), 'face_demo_t1')
    out_dir = tmp_path_factory.mktemp('t1')
    src = osp.join(data_root, 'demo_images', 't1.jpg')
    assert demo.main([src, '--out-dir', str(out_dir), '--save-json']) == 0
    with open(out_dir / 'results_t1.json') as f:
        return json.load(f), out_dir


def test_defaults_are_mtcnn_and_the_fast_path():
    demo = load_script(osp.join('demo', 'face_demo.py'), 'face_demo_args')
    args = demo.parse_args(['t1.jpg'])
    assert args.detector == 'mtcnn' and not args.accurate
    assert args.config is None and args.checkpoint is None


def test_exactly_the_six_faces_each_on_its_hand_marked_box(t1_result):
    data, out_dir = t1_result
    boxes = np.array([inst['bbox'][0] for inst in data['instance_info']])
    assert len(boxes) == len(T1_FACES), boxes.round()
    marked = np.array(list(T1_FACES.values()), np.float64)
    iou = box_iou(boxes, marked)  # (6 detected, 6 marked)
    # one to one: every marked face has its own detection
    best = iou.argmax(0)
    assert sorted(best) == list(range(len(T1_FACES))), iou.round(2)
    for name, j in zip(T1_FACES, range(len(T1_FACES))):
        assert iou[best[j], j] >= MATCH_IOU, (name, iou[:, j].round(2))
    # and its 68 landmarks lie in and around it
    for inst, marked_box in zip(data['instance_info'],
                                marked[iou.argmax(1)]):
        kpts = np.array(inst['keypoints'])
        assert kpts.shape == (68, 2)
        grown = marked_box + np.array([-15, -15, 15, 15])
        inside = ((kpts >= grown[:2]) & (kpts <= grown[2:])).all(1)
        assert inside.mean() > 0.95, inside.mean()
    assert osp.isfile(out_dir / 't1.jpg')


def test_no_box_on_a_hand(t1_result):
    data, _ = t1_result
    boxes = np.array([inst['bbox'][0] for inst in data['instance_info']])
    hands = np.array(list(T1_HANDS.values()), np.float64)
    for name, hand in T1_HANDS.items():
        x1, y1 = np.maximum(boxes[:, :2], hand[:2]).T
        x2, y2 = np.minimum(boxes[:, 2:4], hand[2:]).T
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        area = (hand[2] - hand[0]) * (hand[3] - hand[1])
        # at most a sliver of a face box reaches into a hand
        assert (inter / area < 0.1).all(), (name, (inter / area).round(2))
    assert box_iou(boxes, hands).max() < 0.05
