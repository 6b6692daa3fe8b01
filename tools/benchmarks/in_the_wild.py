"""Faces as a user gets them: each method with its own face detector, on
the same HELEN test and LFPW test faces, in one process.

- ours: :class:`FaceLandmarker` as built with no arguments (MTCNN boxes,
  the fast path), plus any ``--settings`` (e.g. the slow, most accurate
  one, or Haar boxes);
- dlib: its HOG face detector and its 68-point shape predictor, when
  installed (``make install-bench``).

Where a method's detector finds no face overlapping the annotated one, it
gets the ground-truth landmark box instead and the miss is counted, so
every method is scored on every face. Prints NME_io, NME_ip, FR@0.1,
AUC@0.1, detector ms per image, landmark ms per face and faces/s end to end
(detector + landmarks); speeds are also given as ratios to the first
method, measured in the same run.

    python tools/benchmarks/in_the_wild.py --out work_dirs/in_the_wild.json
    python tools/benchmarks/in_the_wild.py --num-faces 60 --settings slow haar
    # another model's default path in the same run (speed ratios to ours)
    python tools/benchmarks/in_the_wild.py --no-dlib --against \
        configs/rht_res18_s_match_300w.py checkpoints/rht_res18_s_match_300w.pth
    # faces/s on one photo: the previous default (Haar + the model's own
    # settings), ours (default) and ours (--accurate), in the same run
    python tools/benchmarks/in_the_wild.py \
        --photo ../shared/data/demo_images/t1.jpg
    # the same photo: another model's default path against the bundled
    # default's, end to end and the landmark step alone (ms per face)
    python tools/benchmarks/in_the_wild.py \
        --photo ../shared/data/demo_images/t1.jpg \
        --config configs/rht_mnv2_300w.py --checkpoint checkpoints/rht_mnv2_300w.pth
    # the MTCNN box -> landmark box constants, from TRAINING faces only
    python tools/benchmarks/in_the_wild.py --calibrate --num-faces 600
    # tuning choices (rotation, references of the fast path) on the
    # validation faces carved from the training folders, never on test
    python tools/benchmarks/in_the_wild.py --faces val --no-dlib \
        --settings rotation refs1 refs5
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Sequence

import numpy as np

from rht_mmpose.evaluation import face_nme, nme_summary
from rht_mmpose.evaluation.dlib_baseline import (dlib_landmarks,
                                                 load_dlib_predictor)
from rht_mmpose.utils.io import (atomic_write_json, find_image,
                                 read_face_points)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TEST_FOLDERS = ('helen/testset', 'lfpw/testset')
TRAIN_FOLDERS = ('afw', 'helen/trainset', 'lfpw/trainset')
VAL_SPLIT = osp.join(REPO, 'configs', 'experiments', 'splits',
                     '300w_train2012_val.txt')
# a detection is the annotated face when it overlaps its landmark box this
# much (detector boxes are mapped to landmark-style boxes first)
MATCH_IOU = 0.3


def list_faces(root: str, folders, num_faces: int = 0):
    """(image path, landmarks (68, 2)) of every face, or ``num_faces``
    spread evenly over all of them."""
    faces = []
    for folder in folders:
        d = osp.join(root, folder)
        for name in sorted(os.listdir(d)):
            if not name.endswith('.pts'):
                continue
            pts = osp.join(d, name)
            img = find_image(pts)
            faces.append((folder, img, read_face_points(pts, img)))
    if num_faces and num_faces < len(faces):
        idx = np.linspace(0, len(faces) - 1, num_faces).round().astype(int)
        faces = [faces[i] for i in sorted(set(idx))]
    return faces


def tight_box(kpts: np.ndarray) -> np.ndarray:
    return np.concatenate([kpts.min(0), kpts.max(0)]).astype(np.float32)


def best_match(boxes: np.ndarray, gt_box: np.ndarray):
    """Index of the box overlapping ``gt_box`` most (None below
    MATCH_IOU)."""
    from rht_mmpose.apis.tracking import box_iou
    if len(boxes) == 0:
        return None
    iou = box_iou(boxes, gt_box[None])[:, 0]
    i = int(iou.argmax())
    return i if iou[i] >= MATCH_IOU else None


def summarise(rows: list, thr: float = 0.1) -> dict:
    det_s = sum(r['det_s'] for r in rows)
    lmk_s = sum(r['lmk_s'] for r in rows)
    return {
        **nme_summary([r['nme_io'] for r in rows],
                      [r['nme_ip'] for r in rows], thr),
        'misses': int(sum(r['missed'] for r in rows)),
        'det_ms_per_image': 1000 * det_s / len(rows),
        'lmk_ms_per_face': 1000 * lmk_s / len(rows),
        'faces_per_s': len(rows) / (det_s + lmk_s),
    }


# --------------------------------------------------------------- methods
class OurMethod:
    """A :class:`FaceLandmarker` setting: detect, then landmarks of the
    matched face (the ground-truth box where nothing matched)."""

    def __init__(self, name: str, model=None, **kwargs):
        from rht_mmpose.apis.face_landmarker import FaceLandmarker
        self.name = name
        self.landmarker = FaceLandmarker(model=model, **kwargs)

    def __call__(self, img, gt_box):
        lm = self.landmarker
        t0 = time.perf_counter()
        boxes, angles = lm.detect(img)
        t1 = time.perf_counter()
        i = best_match(boxes, gt_box)
        box = gt_box[None] if i is None else boxes[i:i + 1, :4]
        angle = None if i is None or angles is None else angles[i:i + 1]
        kpts, _ = lm.landmarks(img, box, angle)
        t2 = time.perf_counter()
        return kpts[0], i is None, t1 - t0, t2 - t1


class DlibMethod:
    """dlib's HOG detector (upsampled once, as its examples do) and its
    68-point predictor (trained on all of 300-W)."""

    name = 'dlib (HOG detector + shape predictor)'

    def __init__(self):
        # SystemExit with the install command when dlib is missing
        self.dlib, self.predictor = load_dlib_predictor()
        self.detector = self.dlib.get_frontal_face_detector()

    def __call__(self, img, gt_box):
        import cv2
        dlib = self.dlib
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        t0 = time.perf_counter()
        rects = self.detector(rgb, 1)
        t1 = time.perf_counter()
        boxes = np.array([[r.left(), r.top(), r.right(), r.bottom()]
                          for r in rects], np.float32).reshape(-1, 4)
        # dlib's box is not a landmark box: match it to the face by IoU
        # with the landmark box's square (dlib boxes are squares)
        i = best_match(boxes, gt_box)
        kpts = dlib_landmarks(dlib, self.predictor, rgb,
                              gt_box if i is None else rects[i])
        t2 = time.perf_counter()
        return kpts, i is None, t1 - t0, t2 - t1


# --------------------------------------------------------------- main
SETTINGS = {
    'default': dict(),
    'slow': dict(fast=False),
    'haar': dict(detector='haar'),
    # more landmark passes, each cropped from the last one's landmarks
    'recrop1': dict(recrop_passes=1),
    'recrop2': dict(recrop_passes=2),
    # test-time augmentation: the mean over the config's tta_pipeline views
    'tta': dict(tta=True),
    'recrop1_tta': dict(recrop_passes=1, tta=True),
    'no_rotation': dict(rotate=False),
    'rotation': dict(rotate=True),
    # the fast path with other reference counts (the default: the model's
    # fast_test_cfg, rht_mmpose.apis.fast_settings)
    'refs1': dict(num_refs=1),
    'refs3': dict(num_refs=3),
    'refs5': dict(num_refs=5),
    'refs10': dict(num_refs=10),
    # without the flip test (half the forward passes)
    'no_flip': dict(flip_test=False),
    'refs1_no_flip': dict(num_refs=1, flip_test=False),
    'refs2_no_flip': dict(num_refs=2, flip_test=False),
    'refs3_no_flip': dict(num_refs=3, flip_test=False),
    # the fast path choosing its references by descriptor instead
    'descriptor': dict(ref_mode='descriptor'),
}


def validation_faces(root: str, split_file: str = VAL_SPLIT):
    """The faces of the training folders that the validation split
    lists (never trained on by the shipped models of the 2012-face
    stage, never in their pools)."""
    from rht_mmpose.datasets.face_300w_pts_dataset import read_split_stems
    listed = read_split_stems(split_file)
    return [f for f in list_faces(root, TRAIN_FOLDERS)
            if f'{f[0]}/{osp.splitext(osp.basename(f[1]))[0]}' in listed]


def calibrate(root: str, num_faces: int) -> dict:
    """Fit MTCNN's box -> landmark box mapping on training faces."""
    import cv2
    from rht_mmpose.apis.face_detection import (MTCNNFaceDetector,
                                                fit_box_mapping)
    det = MTCNNFaceDetector()
    raw, lmk = [], []
    faces = list_faces(root, TRAIN_FOLDERS, num_faces)
    for _, path, kpts in faces:
        dets, _ = det.detect_raw(cv2.imread(path))
        dets = dets[dets[:, 4] >= det.score_thr]
        gt = tight_box(kpts)
        i = best_match(dets, gt)
        if i is not None:
            raw.append(dets[i, :4])
            lmk.append(gt)
    fit = fit_box_mapping(np.stack(raw), np.stack(lmk))
    fit['faces_tried'] = len(faces)
    return fit


def photo_speed(path: str, runs: int = 9, config: str = None,
                checkpoint: str = None, settings: Sequence[str] = ()) -> list:
    """Faces/s end to end on one photo, and the landmark step alone in ms
    per face, medians of ``runs`` after a warm-up, methods alternating.

    Without ``config``: the previous default (Haar boxes,
    ``inference_faces`` with the model's test settings) as the baseline,
    ours (default) and ours (slow). With ``config`` / ``checkpoint``: the
    bundled default as the baseline beside that model, each as
    ``FaceLandmarker`` builds it by default (MTCNN + its fast path), on
    the same MTCNN boxes, and that model with each of ``settings``
    (names of :data:`SETTINGS`)."""
    import cv2
    from rht_mmpose.apis import (HaarFaceDetector, inference_faces,
                                 init_face_model)
    from rht_mmpose.apis.face_landmarker import FaceLandmarker
    img = cv2.imread(path)
    model = init_face_model()
    fast = FaceLandmarker(model=model)

    def end_to_end(lm):
        def run():
            boxes, angles = lm.detect(img)
            lm.landmarks(img, boxes, angles)
            return len(boxes)
        return run

    same_boxes, same_angles = fast.detect(img)  # every landmark step's

    def landmark_step(lm):
        def run():
            lm.landmarks(img, same_boxes, same_angles)
            return len(same_boxes)
        return run

    if config is None:
        haar = HaarFaceDetector()
        slow = FaceLandmarker(model=model, fast=False)

        def previous():
            return len(inference_faces(model, img, haar(img)))

        landmarkers = [('ours (default: MTCNN + fast path)', fast),
                       ('ours (slow, --accurate)', slow)]
        methods = [('previous default (Haar + inference_faces)', previous,
                    None)]
    else:
        other = init_face_model(config, checkpoint)
        landmarkers = [('bundled default (MTCNN + fast path)', fast),
                       (f'{osp.basename(config)} (MTCNN + fast path)',
                        FaceLandmarker(model=other))]
        landmarkers += [(f'{osp.basename(config)} ({name})',
                         FaceLandmarker(model=other, **SETTINGS[name]))
                        for name in settings if name != 'default']
        methods = []
    methods += [(name, end_to_end(lm), landmark_step(lm))
                for name, lm in landmarkers]
    times = {n: ([], []) for n, _, _ in methods}
    faces = {}
    for it in range(runs + 1):
        for name, whole, step in methods:
            for fn, store in ((whole, times[name][0]),
                              (step, times[name][1])):
                if fn is None:
                    continue
                t = time.perf_counter()
                faces[name] = fn()
                if it:  # the first round warms the caches
                    store.append(time.perf_counter() - t)
    print(f'\n{path}: median of {runs} runs; end to end = detector + '
          f'landmarks; landmark step on the same MTCNN boxes')
    print('| method | faces | s / image | faces/s | speed vs first | '
          'landmark ms / face | speed vs first |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    rows, base_fps, base_ms = [], None, None
    for name, _, step in methods:
        sec = float(np.median(times[name][0]))
        fps = faces[name] / sec
        base_fps = base_fps or fps
        ms = (float(np.median(times[name][1])) * 1e3 / faces[name]
              if step is not None else None)
        base_ms = base_ms or ms
        rows.append(dict(method=name, faces=faces[name], s_per_image=sec,
                         faces_per_s=fps, vs_first=fps / base_fps,
                         landmark_ms_per_face=ms))
        ms_cells = (f'{ms:.1f} | {base_ms / ms:.2f}x'
                    if ms is not None else '– | –')
        print(f'| {name} | {faces[name]} | {sec:.3f} | {fps:.1f} | '
              f'{fps / base_fps:.2f}x | {ms_cells} |')
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default=os.environ.get(
        'RHT_DATA_ROOT', osp.join(REPO, '..', 'shared', 'data')))
    parser.add_argument('--num-faces', type=int, default=0,
                        help='faces spread evenly over all (0 = all)')
    parser.add_argument('--settings', nargs='*', default=[],
                        choices=sorted(SETTINGS),
                        help='more settings of ours beside the default')
    parser.add_argument('--no-dlib', action='store_true')
    parser.add_argument('--config', default=None,
                        help='landmark model config (default: bundled)')
    parser.add_argument('--checkpoint', default=None,
                        help='landmark model checkpoint (default: bundled)')
    parser.add_argument('--against', nargs=2, default=None,
                        metavar=('CONFIG', 'CHECKPOINT'),
                        help="another model's default path beside ours, "
                        'in the same run (e.g. the earlier default)')
    parser.add_argument('--faces', default='test', choices=['test', 'val'],
                        help='test: HELEN test + LFPW test (the 300-W '
                        'common set); val: the validation split of the '
                        'training folders, for tuning choices')
    parser.add_argument('--calibrate', action='store_true',
                        help='fit the MTCNN box mapping on training faces')
    parser.add_argument('--photo', default=None,
                        help='only time faces/s on this photo (e.g. '
                        '../shared/data/demo_images/t1.jpg)')
    parser.add_argument('--runs', type=int, default=9,
                        help='--photo: timed runs (after one warm-up)')
    parser.add_argument('--out', default=None, help='json of the results')
    args = parser.parse_args(argv)
    root = osp.join(args.data_root, '300w_subset')
    if args.photo and args.against:
        parser.error('--against times another model on the test faces; '
                     'with --photo, --config / --checkpoint time that model '
                     'beside the bundled default')
    if args.photo:
        rows = photo_speed(args.photo, args.runs, args.config,
                           args.checkpoint, args.settings)
        if args.out:
            atomic_write_json(rows, args.out, indent=1)
        return 0
    if args.calibrate:
        print(json.dumps(calibrate(root, args.num_faces), indent=1))
        return 0
    import cv2
    from rht_mmpose.apis import init_face_model
    # one model, every setting of ours
    model = init_face_model(args.config, args.checkpoint)
    methods = [OurMethod('ours (default)', model)]
    for name in args.settings:
        if name != 'default':
            methods.append(OurMethod(f'ours ({name})', model,
                                     **SETTINGS[name]))
    if args.against:
        methods.append(OurMethod(
            f'{osp.basename(args.against[1])} (default)',
            init_face_model(*args.against)))
    if not args.no_dlib:
        try:
            methods.append(DlibMethod())
        except SystemExit as e:
            print(f'dlib skipped: {e}')
    if args.faces == 'val':
        folders, faces = TRAIN_FOLDERS, validation_faces(root)
    else:
        folders = TEST_FOLDERS
        faces = list_faces(root, TEST_FOLDERS, args.num_faces)
    rows = {m.name: {f: [] for f in folders} for m in methods}
    for folder, path, gt in faces:
        img = cv2.imread(path)
        gt_box = tight_box(gt)
        # every method on this face in turn: background load hits all
        for m in methods:
            kpts, missed, det_s, lmk_s = m(img, gt_box)
            rows[m.name][folder].append(dict(
                nme_io=float(face_nme(kpts, gt)[0]),
                nme_ip=float(face_nme(kpts, gt, 'inter_pupil')[0]),
                missed=missed, det_s=det_s, lmk_s=lmk_s))
    results = {}
    everything = 'all (300-W common set)' if args.faces == 'test' else \
        'all (validation split)'
    for m in methods:
        rows[m.name][everything] = [r for f in folders
                                    for r in rows[m.name][f]]
    for folder in (everything, ) + tuple(folders):
        print(f'\n{folder} ({len(rows[methods[0].name][folder])} faces)')
        print('| method | misses | NME_io | NME_ip | FR@0.1 | AUC@0.1 | '
              'det ms/img | lmk ms/face | faces/s | speed vs ours |')
        print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
        base = None
        for m in methods:
            s = summarise(rows[m.name][folder])
            results.setdefault(m.name, {})[folder] = s
            base = base or s['faces_per_s']
            print(f'| {m.name} | {s["misses"]} | {s["NME_io"]:.4f} | '
                  f'{s["NME_ip"]:.4f} | {s["FR@0.1"]:.4f} | '
                  f'{s["AUC@0.1"]:.4f} | {s["det_ms_per_image"]:.1f} | '
                  f'{s["lmk_ms_per_face"]:.1f} | {s["faces_per_s"]:.1f} | '
                  f'{s["faces_per_s"] / base:.2f}x |')
    if args.out:
        atomic_write_json(results, args.out, indent=1)
        print(f'results: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
