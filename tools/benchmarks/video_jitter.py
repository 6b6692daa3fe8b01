"""Landmark jitter on video: a synthetic clip made from a still photo moved
by small known sub-pixel shifts (a slow drift, seeded) with camera noise,
run through :meth:`FaceLandmarker.video` (tracking, detector every N
frames) without and with One Euro smoothing.

The known motion is removed from every landmark; what is left would be
still in a perfect tracker. Printed per setting:

- ``jitter px``: each point's standard deviation over the clip (the RMS
  distance to its mean position, x and y together), mean over the 68
  points;
- ``step px``: the mean distance a point moves from frame to frame (after
  removing the motion), which smoothing lowers most;
- ``fps``: frames per second of the whole loop (detection, landmarks,
  tracking, filter), after a warm-up.

    python tools/benchmarks/video_jitter.py --out-dir work_dirs/video_jitter
    python tools/benchmarks/video_jitter.py --frames 300 \\
        --settings raw 1.0,1.0 0.3,1.0 0.1,0.5
"""
import argparse
import os
import os.path as osp
import sys
import time

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

DEFAULT_PHOTO = osp.normpath(osp.join(REPO, '..', 'shared', 'data',
                                      'demo_images', 'astronaut.png'))
# name -> (smoothing, min_cutoff Hz, beta); 'MIN_CUTOFF,BETA' also works
NAMED_SETTINGS = {'raw': (False, 1.0, 1.0)}
DEFAULT_SETTINGS = ['raw', '1.0,1.0', '0.3,1.0']


def known_shifts(num_frames: int, fps: float, amplitude: float,
                 seed: int) -> np.ndarray:
    """(T, 2) shifts in pixels: x and y drift as sines of ``amplitude``
    pixels at 0.3 and 0.2 Hz with seeded phases, so that every frame sits
    at another sub-pixel position."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, 2)
    t = np.arange(num_frames) / fps
    return amplitude * np.stack([np.sin(2 * np.pi * 0.3 * t + phase[0]),
                                 np.sin(2 * np.pi * 0.2 * t + phase[1])],
                                axis=1)


def make_clip(img: np.ndarray, shifts: np.ndarray, noise: float = 0.,
              seed: int = 0) -> list:
    """The photo moved by each shift (bilinear, borders reflected), plus
    seeded Gaussian camera noise of ``noise`` grey levels: a point at p in
    the photo is at p + shift in its frame."""
    import cv2
    rng = np.random.default_rng(seed + 1)
    h, w = img.shape[:2]
    frames = []
    for dx, dy in shifts:
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float64)
        frame = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        if noise > 0:
            frame = np.clip(frame + rng.normal(0, noise, frame.shape), 0,
                            255).round().astype(np.uint8)
        frames.append(frame)
    return frames


def jitter(keypoints: np.ndarray, shifts: np.ndarray) -> dict:
    """Jitter of landmarks (T, K, 2) over T frames with known shifts
    (T, 2), the motion removed.

    Returns:
        dict: ``jitter_px`` (mean over K of each point's RMS distance to
        its mean position), ``step_px`` (mean over points and frames of
        the distance moved from the previous frame), ``worst_point_px``
        (the largest per-point value)
    """
    kp = np.asarray(keypoints, np.float64)
    still = kp - np.asarray(shifts, np.float64)[:, None, :]  # (T, K, 2)
    per_point = np.sqrt(still.var(axis=0).sum(axis=1))  # (K, )
    steps = np.linalg.norm(np.diff(still, axis=0), axis=2)  # (T-1, K)
    return dict(jitter_px=float(per_point.mean()),
                step_px=float(steps.mean()) if steps.size else 0.,
                worst_point_px=float(per_point.max()))


def parse_setting(text: str):
    """'raw' or 'MIN_CUTOFF,BETA' -> (name, smoothing, min_cutoff, beta)."""
    if text in NAMED_SETTINGS:
        return (text, *NAMED_SETTINGS[text])
    try:
        min_cutoff, beta = (float(v) for v in text.split(','))
    except ValueError:
        raise SystemExit(f'setting {text!r}: expected raw or '
                         f'MIN_CUTOFF,BETA (e.g. 1.0,1.0)') from None
    if not min_cutoff > 0 or beta < 0:
        raise SystemExit(f'setting {text!r}: expected min_cutoff > 0 and '
                         f'beta >= 0')
    return (f'one_euro min_cutoff={min_cutoff:g} beta={beta:g}', True,
            min_cutoff, beta)


def track_landmarks(landmarker, frames: list, fps: float, detect_every: int,
                    smoothing: bool, min_cutoff: float, beta: float):
    """Landmarks (T', K, 2) of the first frame's first face in the frames
    where that track is present, their frame indices, and the seconds the
    loop took."""
    start = time.perf_counter()
    track, kpts, index = None, [], []
    for frame in landmarker.video(frames, detect_every=detect_every,
                                  smoothing=smoothing,
                                  min_cutoff=min_cutoff, beta=beta,
                                  fps=fps):
        faces = frame['faces']
        if track is None and faces:
            track = faces[0]['track_id']
        face = next((f for f in faces if f['track_id'] == track), None)
        if face is not None:
            kpts.append(np.asarray(face['keypoints'], np.float64))
            index.append(frame['frame_index'])
    seconds = time.perf_counter() - start
    k = 68 if not kpts else len(kpts[0])
    return (np.stack(kpts) if kpts else np.zeros((0, k, 2)),
            np.array(index, np.int64), seconds)


def measure(landmarker, frames: list, shifts: np.ndarray, settings: list,
            fps: float = 30., detect_every: int = 10) -> list:
    """One row per setting (see :func:`parse_setting`): jitter (see
    :func:`jitter`), fps, and frames where the face was not tracked."""
    rows = []
    for name, smoothing, min_cutoff, beta in settings:
        kpts, index, seconds = track_landmarks(
            landmarker, frames, fps, detect_every, smoothing, min_cutoff,
            beta)
        row = dict(setting=name, smoothing=smoothing, min_cutoff=min_cutoff,
                   beta=beta, frames=len(frames),
                   lost_frames=len(frames) - len(index),
                   fps=len(frames) / max(seconds, 1e-9))
        if len(index) >= 2:
            row.update(jitter(kpts, shifts[index]))
        else:
            row.update(jitter_px=float('nan'), step_px=float('nan'),
                       worst_point_px=float('nan'))
        rows.append(row)
    return rows


def print_table(rows: list) -> None:
    print('| setting | jitter px (std) | step px (frame to frame) | '
          'worst point px | fps | lost frames |')
    print('| --- | --- | --- | --- | --- | --- |')
    for r in rows:
        print(f'| {r["setting"]} | {r["jitter_px"]:.3f} | '
              f'{r["step_px"]:.3f} | {r["worst_point_px"]:.3f} | '
              f'{r["fps"]:.1f} | {r["lost_frames"]} |')


def main(argv=None, landmarker=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--photo', default=DEFAULT_PHOTO,
                        help='the still photo the clip is made from')
    parser.add_argument('--frames', type=int, default=150,
                        help='clip length (default 5 s at 30 fps)')
    parser.add_argument('--fps', type=float, default=30.)
    parser.add_argument('--amplitude', type=float, default=2.0,
                        help='drift amplitude in pixels')
    parser.add_argument('--noise', type=float, default=2.0,
                        help='camera noise, grey levels (std)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--detect-every', type=int, default=10)
    parser.add_argument('--settings', nargs='+', default=DEFAULT_SETTINGS,
                        help="'raw' (no smoothing) or MIN_CUTOFF,BETA of "
                        'the One Euro filter')
    parser.add_argument('--accurate', action='store_true',
                        help='the slow landmark settings')
    parser.add_argument('--out-dir', default='work_dirs/video_jitter')
    args = parser.parse_args(argv)
    if args.frames < 2:
        raise SystemExit(f'--frames {args.frames}: expected at least 2')
    settings = [parse_setting(s) for s in args.settings]
    from rht_mmpose.apis import load_image
    img = load_image(args.photo)
    shifts = known_shifts(args.frames, args.fps, args.amplitude, args.seed)
    frames = make_clip(img, shifts, args.noise, args.seed)
    if landmarker is None:
        from rht_mmpose.apis import FaceLandmarker
        landmarker = FaceLandmarker(fast=not args.accurate)
        landmarker(frames[0])  # warm-up: graphs, sessions, caches
    rows = measure(landmarker, frames, shifts, settings, args.fps,
                   args.detect_every)
    print(f'\n{args.photo}: {args.frames} frames at {args.fps:g} fps, '
          f'drift {args.amplitude:g} px, noise {args.noise:g}, seed '
          f'{args.seed}, detector every {args.detect_every} frames')
    print_table(rows)
    os.makedirs(args.out_dir, exist_ok=True)
    from rht_mmpose.utils import atomic_write_json
    path = osp.join(args.out_dir, 'results.json')
    atomic_write_json(dict(config=vars(args), rows=rows), path, indent=1)
    print(f'results: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
