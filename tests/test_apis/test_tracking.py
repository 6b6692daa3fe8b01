"""FaceTracker on synthetic frames: bright squares stand for faces, a
stand-in detector finds them by connected components and a stand-in
landmark model puts a 68-point template on the square inside its box."""
import cv2
import numpy as np
import pytest

from rht_mmpose.apis import FaceTracker, box_iou, landmark_box

SIDE = 40  # square side, pixels
# template: 68 points on the square's border and inside, in [0, 1]^2
TEMPLATE = np.stack(np.meshgrid(np.linspace(0, 1, 17),
                                np.linspace(0, 1, 4)), -1).reshape(-1, 2)


def frame(corners, shape=(200, 320)):
    img = np.zeros((*shape, 3), np.uint8)
    for x, y in corners:
        img[y:y + SIDE, x:x + SIDE] = 255
    return img


class StandIns:
    """The detector and the landmark model, recording their calls."""

    def __init__(self):
        self.detect_frames = []
        self.frame_index = -1

    def detect(self, img):
        self.detect_frames.append(self.frame_index)
        n, _, stats, _ = cv2.connectedComponentsWithStats(
            (img[:, :, 0] > 0).astype(np.uint8))
        boxes = [[x, y, x + w, y + h, 0.99] for x, y, w, h, _ in stats[1:]]
        return np.array(boxes, np.float32).reshape(-1, 5), None

    def landmarks(self, img, boxes, angles):
        kpts, scores = [], []
        for x1, y1, x2, y2 in boxes[:, :4]:
            # the square's pixels inside the box, grown by a quarter
            m = int(SIDE / 4)
            x1, y1 = max(int(x1) - m, 0), max(int(y1) - m, 0)
            window = img[y1:int(y2) + m, x1:int(x2) + m, 0] > 0
            ys, xs = np.nonzero(window)
            if len(xs) == 0:  # nothing there: a lost face
                kpts.append(np.zeros((68, 2)))
                scores.append(np.zeros(68))
                continue
            lo = np.array([xs.min() + x1, ys.min() + y1], np.float64)
            kpts.append(lo + TEMPLATE * (SIDE - 1))
            scores.append(np.full(68, 0.9))
        return np.array(kpts, np.float32), np.array(scores, np.float32)


def run(tracker, stand_ins, frames):
    out = []
    for i, img in enumerate(frames):
        stand_ins.frame_index = i
        out.append(tracker.update(img, i / 30.))
    return out


def test_ids_persist_and_the_detector_runs_every_n_frames():
    s = StandIns()
    tracker = FaceTracker(s.detect, s.landmarks, detect_every=5,
                          smoothing=False)
    # two faces moving 3 px right and 1 px down per frame
    frames = [frame([(20 + 3 * t, 30 + t), (200 + 3 * t, 100)])
              for t in range(12)]
    faces = run(tracker, s, frames)
    assert s.detect_frames == [0, 5, 10]
    assert tracker.detections_run == 3
    for t, fs in enumerate(faces):
        assert len(fs) == 2
        by_id = {f['track_id']: f for f in fs}
        assert sorted(by_id) == [0, 1]
        # id 0 is the left face at every frame, on its square
        np.testing.assert_allclose(by_id[0]['box'],
                                   [20 + 3 * t, 30 + t, 59 + 3 * t,
                                    69 + t])
        np.testing.assert_allclose(by_id[1]['box'],
                                   [200 + 3 * t, 100, 239 + 3 * t, 139])
        assert all(f['detected'] == (t in (0, 5, 10)) for f in fs)


def test_a_lost_face_triggers_the_detector_and_a_new_track():
    s = StandIns()
    tracker = FaceTracker(s.detect, s.landmarks, detect_every=5,
                          smoothing=False)
    frames = []
    for t in range(12):
        corners = [(200, 100)]
        if not 7 <= t <= 8:  # the left face leaves at frame 7, back at 9
            corners.insert(0, (20 + 2 * t, 30))
        frames.append(frame(corners))
    faces = run(tracker, s, frames)
    # frame 7: the left face's landmarks fail -> detector at frame 8;
    # frame 9: nothing new is looked for until the next every-5 frame
    assert s.detect_frames == [0, 5, 8, 10]
    # ids by raster order of the first detection: 0 the upper-left face
    ids = [sorted(f['track_id'] for f in fs) for fs in faces]
    assert ids[:7] == [[0, 1]] * 7
    assert ids[7:10] == [[1]] * 3
    # back at frame 10 with a new identity; the right face kept its own
    assert ids[10:] == [[1, 2]] * 2


def test_no_face_at_all_runs_the_detector_every_frame():
    s = StandIns()
    tracker = FaceTracker(s.detect, s.landmarks, detect_every=10)
    faces = run(tracker, s, [frame([])] * 4)
    assert faces == [[]] * 4
    assert s.detect_frames == [0, 1, 2, 3]
    with pytest.raises(ValueError, match='detect_every must be >= 1'):
        FaceTracker(s.detect, s.landmarks, detect_every=0)


def test_smoothing_follows_a_still_face_exactly_and_lags_a_moving_one():
    s = StandIns()
    still = FaceTracker(s.detect, s.landmarks, detect_every=3)
    faces = run(still, s, [frame([(50, 50)])] * 6)
    want = np.array([50, 50], np.float32) + TEMPLATE * (SIDE - 1)
    for fs in faces:
        np.testing.assert_allclose(fs[0]['keypoints'], want, atol=1e-4)
    s = StandIns()
    moving = FaceTracker(s.detect, s.landmarks, detect_every=3)
    faces = run(moving, s, [frame([(50 + 4 * t, 50)]) for t in range(6)])
    last = faces[-1][0]['keypoints']
    raw = np.array([70, 50]) + TEMPLATE * (SIDE - 1)
    lag = raw[:, 0] - last[:, 0]
    assert (lag > 0.1).all() and (lag < 20).all()
    np.testing.assert_allclose(last[:, 1], raw[:, 1], atol=1e-4)


def test_box_helpers_by_hand():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 40]])
    b = np.array([[5, 0, 15, 10, 0.5]])
    # 50 / (100 + 100 - 50); no overlap
    np.testing.assert_allclose(box_iou(a, b), [[1 / 3], [0]])
    np.testing.assert_allclose(
        landmark_box(np.array([[3, 9], [1, 4], [7, 2]])), [1, 2, 7, 9])
