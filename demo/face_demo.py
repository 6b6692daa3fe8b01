#!/usr/bin/env python
"""Facial landmarks on an image, a folder of images or a video: a command
line over :class:`rht_mmpose.apis.FaceLandmarker` (the shape of MMPose's
``demo/topdown_demo_with_mmdet.py``).

Faces are found with MTCNN (default; weights inside the facenet-pytorch
wheel, offline), OpenCV's Haar cascade (``--detector haar``) or an
MMDetection detector (``--det-config`` and ``--det-checkpoint``); landmarks
come from the bundled RHT model or any MMPose top-down face model
(``--config`` and ``--checkpoint``) with the fast settings (2 references +
flip test; the faces of an image in one batch through ONNX Runtime) or the
model's own (``--accurate``; ``--cfg-options`` apply there). Videos and
``--camera N`` are tracked (detector every ``--detect-every`` frames or
when a face is lost) and smoothed (One Euro filter, ``--min-cutoff`` /
``--beta``).

Examples::

    python demo/face_demo.py photo.jpg                  # MTCNN + fast path
    python demo/face_demo.py photo.jpg --accurate       # slow, most accurate
    python demo/face_demo.py photos/ --out-dir outputs/photos --save-json
    python demo/face_demo.py clip.mp4 --detect-every 5 --min-cutoff 0.5
    python demo/face_demo.py --camera 0 --max-frames 300
    python demo/face_demo.py photos/ --accurate --config configs/x.py \\
        --checkpoint x.pth --show-heatmaps --show-reference

Outputs (written atomically: a temporary file, then a rename): the annotated
image ``OUT_DIR/<name>`` and with ``--save-json``
``OUT_DIR/results_<stem>.json`` in mmpose's demo format (``meta_info`` +
``instance_info``); a video or camera gives ``OUT_DIR/<stem>.mp4`` and
always its per-frame json.

Exit status: 0 when the input was processed (also when no face was found,
or some images of a folder / frames of a video could not be read: each is
reported, the rest is processed), 2 for bad input (missing path, not an
image, empty folder, unreadable video or camera, unwritable output
directory, tiny image, bad option values, a checkpoint that does not fit
its config), reported in one line without a traceback; 130 on Ctrl-C
(a camera recording is closed and kept instead).
"""
import argparse
import itertools
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np
from mmengine.config import DictAction

from rht_mmpose.apis import (BACKENDS, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS,
                             FaceInputError, FaceLandmarker,
                             boundary_scheme_of, check_writable_dir,
                             dump_json_atomic, get_reference_used,
                             imwrite_atomic, init_face_model, load_image)
from rht_mmpose.apis.face_landmarker import open_frames
from rht_mmpose.visualization import FaceResultDrawer

USER_ERRORS = (FaceInputError, FileNotFoundError, IsADirectoryError,
               NotADirectoryError, PermissionError)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Facial landmarks on an image, a folder or a video.')
    add = p.add_argument
    add('input', nargs='?', default=None,
        help='image, folder of images, or video')
    add('--camera', type=int, default=None,
        help='webcam index (instead of an input path)')
    add('--max-frames', type=int, default=0,
        help='stop a video / camera after N frames (0: all)')
    add('--accurate', action='store_true',
        help="the model's own test settings (10 references + flip test for "
        'the bundled model; slower); default: the fast settings')
    add('--detector', default='mtcnn', choices=['mtcnn', 'haar'],
        help='face detector when no --det-config is given')
    add('--rotate', action='store_true',
        help="turn each face crop upright from MTCNN's eye points (for "
        'tilted faces; mtcnn only)')
    add('--min-face-size', type=int, default=40,
        help='smallest face (pixels) the detector looks for')
    add('--backend', default=None, choices=BACKENDS,
        help='landmark backend (default: hybrid for RHT models on the '
        'CPU, else mmpose)')
    add('--threads', type=int, default=None,
        help='CPU threads (default: 2 at most)')
    add('--detect-every', type=int, default=10,
        help='video: run the detector every N frames (and when a face is '
        'lost)')
    add('--no-smoothing', action='store_true',
        help='video: no One Euro filter on the landmarks')
    add('--min-cutoff', type=float, default=1.0,
        help='video: One Euro cutoff at rest (Hz; lower = smoother)')
    add('--beta', type=float, default=1.0,
        help='video: One Euro speed coefficient (higher = less lag)')
    add('--no-contours', action='store_true',
        help='draw landmarks as dots only')
    add('--out-dir', default='outputs/face_demo',
        help='output folder (created if needed)')
    add('--config', default=None,
        help='pose config (default: the bundled model, or the config saved '
        'in --checkpoint)')
    add('--checkpoint', default=None,
        help='pose checkpoint (default: the bundled model)')
    add('--det-config', default=None,
        help='mmdet face detector config (default: --detector)')
    add('--det-checkpoint', default=None,
        help='mmdet face detector checkpoint')
    add('--det-cat-id', type=int, default=0,
        help='face category id of the mmdet detector')
    add('--bbox-thr', type=float, default=0.3,
        help='mmdet box score threshold')
    add('--nms-thr', type=float, default=0.3,
        help='IoU threshold of the mmdet box NMS')
    add('--whole-image', action='store_true',
        help='no detection: the whole image is one face')
    add('--device', default='cpu', help='e.g. cpu, cuda:0')
    add('--cfg-options', nargs='+', action=DictAction, default=None,
        help='override settings of the pose config, as in mmpose, e.g. '
        'model.test_cfg.flip_test=False or model.test_cfg.num_refs=3 (with '
        '--accurate, the model\'s own settings)')
    add('--reference-dir', default=None,
        help='RHT models: folder of reference faces (images with 300-W '
        '.pts files) replacing the built-in pool')
    add('--show-boundaries', action='store_true',
        help='draw boundary curves (the default; kept for old command '
        'lines)')
    add('--show-heatmaps', action='store_true',
        help='add a panel with the predicted heatmaps')
    add('--show-reference', action='store_true',
        help='add a panel with the reference face used')
    add('--save-json', action='store_true',
        help='save predictions as json (mmpose format)')
    add('--kpt-thr', type=float, default=0.0,
        help='hide landmarks with a lower score')
    add('--radius', type=int, default=2,
        help='landmark radius of a face 200 px across (others scale with '
        'their size)')
    add('--thickness', type=int, default=1,
        help='line width of a face 140 px across (scales the same way)')
    return p.parse_args(argv)


def check_options(args) -> None:
    """Option values, checked before any model is loaded."""
    if args.input is not None and args.camera is not None:
        raise FaceInputError(f'give an input path or --camera, not both '
                             f'(got {args.input!r} and --camera '
                             f'{args.camera})')
    if (args.det_config is None) != (args.det_checkpoint is None):
        raise FaceInputError('give both --det-config and --det-checkpoint, '
                             'or neither (then --detector is used)')
    mtcnn = args.detector == 'mtcnn' and not (args.det_config
                                              or args.whole_image)
    limits = [('--detect-every', args.detect_every, 1),
              ('--max-frames', args.max_frames, 0),
              ('--radius', args.radius, 1), ('--thickness', args.thickness, 1),
              ('--threads', args.threads or 1, 1),
              ('--min-face-size', args.min_face_size, 12 if mtcnn else 1)]
    for name, value, low in limits:
        if value < low:
            raise FaceInputError(f'{name} {value}: expected an integer >= '
                                 f'{low}')
    if not args.min_cutoff > 0:
        raise FaceInputError(f'--min-cutoff {args.min_cutoff}: expected a '
                             f'frequency > 0 Hz')
    if not args.beta >= 0:
        raise FaceInputError(f'--beta {args.beta}: expected a value >= 0')
    if args.rotate and not mtcnn:
        used = ('--whole-image' if args.whole_image else '--det-config'
                if args.det_config else f'--detector {args.detector}')
        raise FaceInputError(f"--rotate needs MTCNN's eye points "
                             f'(--detector mtcnn), got {used}')


def open_input(args):
    """The input, checked before any model is loaded: ``('images',
    files)`` or ``('video', (source, frames, rate))``."""
    if args.camera is not None:
        cap = cv2.VideoCapture(args.camera)
        ok = cap.isOpened()
        cap.release()
        if not ok:
            raise FaceInputError(f'cannot open camera {args.camera}')
        return 'video', (args.camera, args.camera, None)
    path = args.input
    if path is None:
        raise FaceInputError('give an input path or --camera N')
    if not osp.exists(path):
        raise FileNotFoundError(f'input {path!r} does not exist')
    if osp.isdir(path):
        files = sorted(
            osp.join(path, n) for n in os.listdir(path)
            if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS
            and osp.isfile(osp.join(path, n)))
        if not files:
            raise FaceInputError(f'folder {path!r} has no images (looked '
                                 f'for {", ".join(IMAGE_EXTENSIONS)})')
        return 'images', files
    if osp.splitext(path)[1].lower() not in VIDEO_EXTENSIONS:
        load_image(path)  # raises for files that are not images
        return 'images', [path]
    frames, rate = open_frames(path)
    first = next(frames, None)
    if first is None:
        raise FaceInputError(
            f'cannot open video {path!r} (OpenCV could not read a frame)')
    return 'video', (path, itertools.chain([first], frames), rate)


class WholeImage:
    """The "detector" of ``--whole-image``: the image is one face."""

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        return np.array([[0, 0, w, h, 1.]], np.float32)


def build(args):
    """The landmarker and the drawer of the options."""
    model = init_face_model(args.config, args.checkpoint, device=args.device,
                            reference_pool=args.reference_dir,
                            cfg_options=args.cfg_options)
    landmarker = FaceLandmarker(
        model=model, fast=not args.accurate,
        detector=WholeImage() if args.whole_image else args.detector,
        det_config=args.det_config, det_checkpoint=args.det_checkpoint,
        det_score_thr=args.bbox_thr if args.det_config else None,
        det_kwargs=dict(cat_id=args.det_cat_id, nms_thr=args.nms_thr)
        if args.det_config else None,
        min_face_size=args.min_face_size, rotate=args.rotate or None,
        backend=args.backend, num_threads=args.threads, device=args.device)
    scheme = None if args.no_contours and not args.show_boundaries else \
        boundary_scheme_of(model)
    if scheme is None and not args.no_contours:
        print('note: no boundary layout for this keypoint scheme; drawing '
              'landmarks only')
    from rht_mmpose.codecs.boundary_tables import get_boundaries
    drawer = FaceResultDrawer(
        get_boundaries(scheme) if scheme else None, radius=args.radius,
        line_width=args.thickness, kpt_thr=args.kpt_thr)
    return landmarker, drawer


def draw(args, img, faces, landmarker, drawer):
    refs = [get_reference_used(landmarker.model, f) for f in faces] \
        if args.show_reference else None
    return drawer.draw(img, faces, heatmaps=args.show_heatmaps,
                       references=refs)


def faces_to_json(faces: list) -> list:
    """Faces in the layout of mmpose's ``split_instances`` (plus
    ``reference_index`` of RHT models and ``track_id`` on video)."""
    out = []
    for f in faces:
        rec = dict(keypoints=np.asarray(f['keypoints']).tolist(),
                   keypoint_scores=np.asarray(f['keypoint_scores']).tolist(),
                   bbox=[np.asarray(f['box'][:4]).tolist()],
                   bbox_score=float(f['score']))
        rec.update({k: f[k] for k in ('track_id', 'reference_index')
                    if k in f})
        out.append(rec)
    return out


def run_images(args, files, landmarker, drawer, stats) -> None:
    from tqdm import tqdm
    say = print if len(files) == 1 else tqdm.write
    for path in tqdm(files, unit='img', file=sys.stderr,
                     disable=len(files) <= 1, dynamic_ncols=True):
        try:
            img = load_image(path)
        except USER_ERRORS as e:
            if len(files) == 1:
                raise
            say(f'skipped: {e}')
            stats['failed'] += 1
            continue
        start = time.perf_counter()
        faces = landmarker(img, heatmaps=args.show_heatmaps)
        stats['seconds'] += time.perf_counter() - start
        stats['frames'] += 1
        stats['faces'] += len(faces)
        if not faces:
            stats['no_face'] += 1
            say(f'no face found in {path} (faces smaller than '
                f'{args.min_face_size} px are not looked for: '
                f'--min-face-size)')
            continue
        name = osp.basename(path)
        out = imwrite_atomic(osp.join(args.out_dir, name),
                             draw(args, img, faces, landmarker, drawer))
        say(f'annotated image: {out} ({len(faces)} faces)')
        if args.save_json:
            out = dump_json_atomic(
                osp.join(args.out_dir,
                         f'results_{osp.splitext(name)[0]}.json'),
                dict(meta_info=landmarker.model.dataset_meta,
                     instance_info=faces_to_json(faces)))
            say(f'predictions: {out}')


def run_video(args, source, frames, rate, landmarker, drawer,
              stats) -> None:
    """Track faces through a video or a camera into ``OUT_DIR/<stem>.mp4``
    and ``OUT_DIR/results_<stem>.json`` (an entry per frame read,
    ``frame_id`` from 1); both appear only when complete. An unreadable
    frame is reported, left out of the video and listed in the json with
    its ``error``. A camera records until ``--max-frames`` or Ctrl-C."""
    camera = isinstance(source, int)
    stem = f'camera{source}' if camera else \
        osp.splitext(osp.basename(source))[0]
    out_path = osp.join(args.out_dir, f'{stem}.mp4')
    tmp_path = osp.join(args.out_dir, f'.{stem}.tmp{os.getpid()}.mp4')
    records, writer = [], None
    start = time.perf_counter()
    stream = landmarker.video(
        frames, detect_every=args.detect_every,
        smoothing=not args.no_smoothing, min_cutoff=args.min_cutoff,
        beta=args.beta, fps=rate)
    try:
        try:
            for frame in stream:
                index = frame['frame_index']
                if args.max_frames and index >= args.max_frames:
                    break
                if frame['error']:
                    print(f'skipped: {frame["error"]}')
                    stats['failed'] += 1
                    records.append(dict(frame_id=index + 1, instances=[],
                                        error=frame['error']))
                    continue
                faces = frame['faces']
                stats['frames'] += 1
                stats['no_face'] += int(not faces)
                stats['faces'] += len(faces)
                vis = draw(args, frame['image'], faces, landmarker, drawer)
                if writer is None:
                    size = (vis.shape[1], vis.shape[0])
                    writer = cv2.VideoWriter(
                        tmp_path, cv2.VideoWriter_fourcc(*'mp4v'),
                        rate or 30., size)
                    if not writer.isOpened():
                        raise FaceInputError(f'OpenCV cannot write an mp4 '
                                             f'video to {args.out_dir!r}')
                writer.write(cv2.resize(vis, size))
                records.append(dict(frame_id=index + 1,
                                    instances=faces_to_json(faces)))
        except KeyboardInterrupt:
            if not camera:
                raise
            print('stopped (Ctrl-C): closing the recording')
        finally:
            stream.close()
        seconds = time.perf_counter() - start
        stats['seconds'] += seconds
        if writer is None:
            raise FaceInputError(
                f'{"camera" if camera else "video"} {source!r} gave no '
                f'readable frame ({stats["failed"]} failed to decode)')
        writer.release()
        writer = None
        os.replace(tmp_path, out_path)
    finally:
        if writer is not None:
            writer.release()
        if osp.exists(tmp_path):
            os.remove(tmp_path)
    print(f'annotated video: {out_path}')
    out = dump_json_atomic(
        osp.join(args.out_dir, f'results_{stem}.json'),
        dict(meta_info=landmarker.model.dataset_meta, instance_info=records))
    print(f'predictions: {out}')
    print(f'video: {stats["frames"]} frames in {seconds:.1f} s, '
          f'{stats["frames"] / max(seconds, 1e-9):.1f} fps (detector every '
          f'{args.detect_every} frames and when a face is lost, smoothing '
          f'{"off" if args.no_smoothing else "on"})')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_options(args)
        kind, what = open_input(args)
        check_writable_dir(args.out_dir)
        landmarker, drawer = build(args)
        stats = dict(frames=0, faces=0, no_face=0, failed=0, seconds=0.)
        if kind == 'video':
            run_video(args, *what, landmarker, drawer, stats)
        else:
            run_images(args, what, landmarker, drawer, stats)
    except USER_ERRORS as e:
        msg = e.args[0] if isinstance(e, OSError) and len(e.args) == 1 \
            else str(e)
        print(f'error: {msg}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    per_face = stats['seconds'] / stats['faces'] if stats['faces'] else \
        float('nan')
    print(f'summary: {stats["faces"]} faces in {stats["frames"]} '
          f'{"frames" if kind == "video" else "images"} '
          f'({stats["no_face"]} without a face, {stats["failed"]} '
          f'unreadable), {per_face:.3f} s per face')
    if stats['frames'] == 0:
        print('error: no input could be read', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
