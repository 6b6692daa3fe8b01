"""tools/benchmarks/video_jitter.py: the clip's known motion, its removal,
the jitter figures on hand-built cases, a run on a few real frames."""
import json
import os.path as osp

import numpy as np
import pytest

from tests.conftest import load_script

vj = load_script('tools/benchmarks/video_jitter.py', 'video_jitter')


def blobs(h=120, w=160):
    """Three Gaussian spots on black (float, no clipping) and their
    centres (x, y)."""
    centres = np.array([[40.3, 50.0], [100.0, 30.7], [80.5, 90.2]])
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    img = np.zeros((h, w), np.float64)
    for cx, cy in centres:
        img += 200 * np.exp(-((xx - cx)**2 + (yy - cy)**2) / (2 * 3.0**2))
    return np.repeat(img[:, :, None], 3, axis=2).astype(np.float32), centres


def centroids(frame, centres, r=12):
    """Intensity-weighted centroid around each centre (linear
    interpolation moves it exactly with the image)."""
    out = []
    g = frame[:, :, 0].astype(np.float64)
    for cx, cy in centres:
        x0, y0 = int(cx) - r, int(cy) - r
        win = g[y0:y0 + 2 * r + 1, x0:x0 + 2 * r + 1]
        yy, xx = np.mgrid[:win.shape[0], :win.shape[1]]
        out.append([x0 + (xx * win).sum() / win.sum(),
                    y0 + (yy * win).sum() / win.sum()])
    return np.array(out)


def test_clip_moves_the_photo_by_the_known_shifts():
    img, centres = blobs()
    shifts = vj.known_shifts(12, 30., 2.5, seed=3)
    assert np.abs(shifts).max() <= 2.5 and np.ptp(shifts, axis=0).min() > 0.1
    # sub-pixel positions, not whole pixels
    assert (np.abs(shifts - shifts.round()) > 0.01).mean() > 0.8
    # OpenCV's bilinear warp places samples on a 1/32 pixel grid
    for frame, s in zip(vj.make_clip(img, shifts), shifts):
        np.testing.assert_allclose(centroids(frame, centres), centres + s,
                                   atol=1 / 32)
    noisy = vj.make_clip(img.astype(np.uint8), shifts[:2], noise=2.0)
    assert noisy[0].dtype == np.uint8
    again = vj.make_clip(img.astype(np.uint8), shifts[:2], noise=2.0)
    np.testing.assert_array_equal(noisy[1], again[1])  # seeded


def test_jitter_by_hand():
    shifts = np.array([[0., 0.], [1., 2.], [2., 4.], [3., 6.]])
    still = np.array([[10., 20.], [30., 40.]])
    kpts = still[None] + shifts[:, None]
    # the exact motion: no jitter at all
    assert vj.jitter(kpts, shifts) == dict(jitter_px=0., step_px=0.,
                                           worst_point_px=0.)
    # point 0 wobbles +-1 in x, point 1 +-0.5 in y: std 1 and 0.5, mean
    # 0.75; frame to frame 2 and 1 every step, mean 1.5
    wobble = np.array([1., -1., 1., -1.])
    kpts = kpts.copy()
    kpts[:, 0, 0] += wobble
    kpts[:, 1, 1] += 0.5 * wobble
    got = vj.jitter(kpts, shifts)
    assert got['jitter_px'] == pytest.approx(0.75)
    assert got['step_px'] == pytest.approx(1.5)
    assert got['worst_point_px'] == pytest.approx(1.0)


class ExactLandmarker:
    """Stands in for FaceLandmarker.video: one face whose 68 points are a
    fixed shape moved by the frame's known shift, plus ``wobble``."""

    def __init__(self, shifts, wobble=0.):
        self.shifts = shifts
        self.wobble = wobble
        self.calls = []

    def video(self, frames, detect_every, smoothing, min_cutoff, beta, fps):
        self.calls.append((detect_every, smoothing, min_cutoff, beta, fps))
        shape = np.stack([np.linspace(50, 150, 68), np.linspace(80, 120, 68)],
                         axis=1)
        for i, _ in enumerate(frames):
            sign = 1 if i % 2 else -1
            kp = shape + self.shifts[i] + [self.wobble * sign, 0.]
            yield dict(frame_index=i, faces=[dict(track_id=7, keypoints=kp)])


def test_measure_removes_the_motion_and_passes_the_settings(tmp_path):
    shifts = vj.known_shifts(10, 30., 2.0, seed=0)
    frames = [None] * 10
    settings = [vj.parse_setting('raw'), vj.parse_setting('0.3,0.7')]
    exact = ExactLandmarker(shifts)
    rows = vj.measure(exact, frames, shifts, settings, fps=25.,
                      detect_every=4)
    np.testing.assert_allclose([r['jitter_px'] for r in rows], [0., 0.],
                               atol=1e-9)
    assert all(r['lost_frames'] == 0 and r['fps'] > 0 for r in rows)
    assert exact.calls == [(4, False, 1.0, 1.0, 25.),
                           (4, True, 0.3, 0.7, 25.)]
    # +-0.25 px in x every other frame: std 0.25, steps 0.5
    rows = vj.measure(ExactLandmarker(shifts, 0.25), frames, shifts,
                      settings[:1])
    assert rows[0]['jitter_px'] == pytest.approx(0.25)
    assert rows[0]['step_px'] == pytest.approx(0.5)
    with pytest.raises(SystemExit, match='expected raw or MIN_CUTOFF,BETA'):
        vj.parse_setting('smooth')
    with pytest.raises(SystemExit, match='min_cutoff > 0'):
        vj.parse_setting('0,1')


def test_main_writes_results_json(data_root, tmp_path, capsys):
    frames = 6
    shifts = vj.known_shifts(frames, 30., 2.0, seed=0)
    out_dir = tmp_path / 'jitter'
    photo = osp.join(data_root, 'demo_images', 'astronaut.png')
    assert vj.main(['--photo', photo, '--frames', str(frames), '--out-dir',
                    str(out_dir)], landmarker=ExactLandmarker(shifts)) == 0
    data = json.load(open(out_dir / 'results.json'))
    assert [r['setting'] for r in data['rows']] == [
        'raw', 'one_euro min_cutoff=1 beta=1',
        'one_euro min_cutoff=0.3 beta=1'
    ]
    assert all(abs(r['jitter_px']) < 1e-9 for r in data['rows'])
    assert data['config']['frames'] == frames
    assert '| raw | 0.000 |' in capsys.readouterr().out


def test_a_few_real_frames(data_root, tmp_path, capsys):
    """The bundled model on 4 frames of the default photo: the face is
    tracked in every frame and the jitter is a few pixels at most."""
    out_dir = tmp_path / 'real'
    photo = osp.join(data_root, 'demo_images', 'astronaut.png')
    assert vj.main(['--photo', photo, '--frames', '4', '--settings', 'raw',
                    '1.0,1.0', '--out-dir', str(out_dir)]) == 0
    rows = json.load(open(out_dir / 'results.json'))['rows']
    for r in rows:
        assert r['lost_frames'] == 0
        assert 0 < r['jitter_px'] < 3.0, r
