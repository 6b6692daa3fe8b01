#!/usr/bin/env python
"""Facial landmarks on an image, a folder of images, a video or a camera:
a command line over :class:`rht_mmpose.apis.FaceLandmarker`, in the shape
of MMPose's ``demo/topdown_demo_with_mmdet.py``.

    python demo/face_demo.py photo.jpg                  # MTCNN + fast path
    python demo/face_demo.py photo.jpg --accurate       # the model's own
    python demo/face_demo.py photo.jpg --accurate --tta # + 5 views averaged
    python demo/face_demo.py photos/ --out-dir outputs/photos --save-json
    python demo/face_demo.py clip.mp4 --detect-every 5 --min-cutoff 0.5
    python demo/face_demo.py --camera 0 --max-frames 300

Writes (atomically) ``OUT_DIR/<name>`` and with ``--save-json``
``OUT_DIR/results_<stem>.json`` (mmpose's demo format); a video or camera
``OUT_DIR/<stem>.mp4`` and always its per-frame json. Exit status 0 when
the input was processed (unreadable images / frames and faceless images
are reported and skipped), 2 for bad input or options (one line, no
traceback), 130 on Ctrl-C (a camera recording is kept).
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
                             check_writable_dir, get_reference_used,
                             imwrite_atomic, init_face_model, load_image)
from rht_mmpose.utils.io import open_frames
from rht_mmpose.utils.io import atomic_output, atomic_write_json
from rht_mmpose.visualization import FaceResultDrawer

USER_ERRORS = (FaceInputError, FileNotFoundError, IsADirectoryError,
               NotADirectoryError, PermissionError)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Facial landmarks on an image, a folder or a video.')
    add = p.add_argument
    add('input', nargs='?', help='image, folder of images, or video')
    add('--camera', type=int, help='webcam index (instead of an input)')
    add('--max-frames', type=int, default=0,
        help='stop a video / camera after N frames (0: all)')
    add('--accurate', action='store_true',
        help="the model's own test settings (slower); default: its fast "
        "settings (its config's fast_test_cfg; the bundled model: the "
        'reference with the closest descriptor + flip test)')
    add('--recrop', type=int, default=0, metavar='N',
        help="N more landmark passes per face, each cropped from the last "
        "pass's landmarks (more accurate than the detector's box; each "
        'pass costs one more landmark step)')
    add('--tta', action='store_true',
        help="test-time augmentation: the mean over the views of the "
        "config's tta_pipeline (the bundled model: 5, each costing one "
        'landmark step), as tools/test.py --tta')
    add('--detector', default='mtcnn', choices=['mtcnn', 'haar'])
    add('--rotate', action='store_true',
        help="turn each face crop upright from MTCNN's eye points")
    add('--min-face-size', type=int, default=40,
        help='smallest face (pixels) the detector looks for')
    add('--backend', choices=BACKENDS,
        help='default: hybrid for RHT models on the CPU, else mmpose')
    add('--threads', type=int, help='CPU threads (default: 2 at most)')
    add('--detect-every', type=int, default=10,
        help='video: detector every N frames (and when a face is lost)')
    add('--no-smoothing', action='store_true',
        help='video: no One Euro filter')
    add('--min-cutoff', type=float, default=1.0,
        help='video: One Euro cutoff at rest, Hz (lower: smoother)')
    add('--beta', type=float, default=1.0,
        help='video: One Euro speed coefficient (higher: less lag)')
    add('--no-contours', action='store_true', help='landmark dots only')
    add('--show-boundaries', action='store_true',
        help='boundary curves (the default; for old command lines)')
    add('--out-dir', default='outputs/face_demo')
    add('--config', help='pose config (default: the bundled model, or the '
        "checkpoint's own)")
    add('--checkpoint', help='pose checkpoint (default: the bundled model)')
    add('--det-config', help='mmdet face detector config')
    add('--det-checkpoint', help='mmdet face detector checkpoint')
    add('--det-cat-id', type=int, default=0, help='mmdet face category')
    add('--bbox-thr', type=float, default=0.3, help='mmdet score threshold')
    add('--nms-thr', type=float, default=0.3, help='mmdet NMS IoU')
    add('--whole-image', action='store_true',
        help='no detection: the whole image is one face')
    add('--device', default='cpu', help='e.g. cpu, cuda:0')
    add('--cfg-options', nargs='+', action=DictAction,
        help='override the pose config, as in mmpose, e.g. '
        'model.test_cfg.num_refs=3 (with --accurate)')
    add('--reference-dir', help='RHT: folder of reference faces (images '
        'with 300-W .pts files) replacing the built-in pool')
    add('--show-heatmaps', action='store_true', help='heatmap panel')
    add('--show-reference', action='store_true', help='reference panel')
    add('--save-json', action='store_true', help='mmpose json per image')
    add('--kpt-thr', type=float, default=0.0,
        help='hide landmarks with a lower score')
    add('--radius', type=int, default=2,
        help='landmark radius of a 200 px face (others scale)')
    add('--thickness', type=int, default=1,
        help='line width of a 140 px face (others scale)')
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
              ('--recrop', args.recrop, 0),
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


def whole_image(img: np.ndarray) -> np.ndarray:
    """The "detector" of ``--whole-image``: the image is one face."""
    return np.array([[0, 0, img.shape[1], img.shape[0], 1.]], np.float32)


def build(args):
    """The landmarker and the drawer of the options."""
    model = init_face_model(args.config, args.checkpoint, device=args.device,
                            reference_pool=args.reference_dir,
                            cfg_options=args.cfg_options)
    landmarker = FaceLandmarker(
        model=model, fast=not args.accurate,
        detector=whole_image if args.whole_image else args.detector,
        det_config=args.det_config, det_checkpoint=args.det_checkpoint,
        det_score_thr=args.bbox_thr if args.det_config else None,
        det_kwargs=dict(cat_id=args.det_cat_id, nms_thr=args.nms_thr)
        if args.det_config else None,
        min_face_size=args.min_face_size, rotate=args.rotate or None,
        backend=args.backend, num_threads=args.threads,
        recrop_passes=args.recrop, tta=args.tta, device=args.device)
    contours = args.show_boundaries or not args.no_contours
    drawer = FaceResultDrawer.for_keypoints(
        model.dataset_meta, contours, radius=args.radius,
        line_width=args.thickness, kpt_thr=args.kpt_thr)
    if contours and drawer.boundaries is None:
        print('note: no boundary layout for this keypoint scheme; drawing '
              'landmarks only')
    return landmarker, drawer


def draw(args, img, faces, landmarker, drawer):
    refs = [get_reference_used(landmarker.model, f) for f in faces] \
        if args.show_reference else None
    return drawer.draw(img, faces, heatmaps=args.show_heatmaps,
                       references=refs)


def faces_to_json(faces: list) -> list:
    """Faces in the layout of mmpose's ``split_instances`` (plus
    ``reference_index`` of RHT models and ``track_id`` on video)."""
    keys = ('keypoints', 'keypoint_scores', 'track_id', 'reference_index')
    return [dict({k: f[k] for k in keys if k in f}, bbox=[f['box'][:4]],
                 bbox_score=float(f['score'])) for f in faces]


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
        count(stats, faces)
        if not faces:
            say(f'no face found in {path} (faces smaller than '
                f'{args.min_face_size} px are not looked for: '
                f'--min-face-size)')
            continue
        name = osp.basename(path)
        out = imwrite_atomic(osp.join(args.out_dir, name),
                             draw(args, img, faces, landmarker, drawer))
        say(f'annotated image: {out} ({len(faces)} faces)')
        if args.save_json:
            out = osp.join(args.out_dir,
                           f'results_{osp.splitext(name)[0]}.json')
            atomic_write_json(dict(meta_info=landmarker.model.dataset_meta,
                                   instance_info=faces_to_json(faces)),
                              out, indent=1)
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
    out_path, records, writer = osp.join(args.out_dir, f'{stem}.mp4'), [], None
    start = time.perf_counter()
    stream = landmarker.video(frames, args.detect_every,
                              not args.no_smoothing, args.min_cutoff,
                              args.beta, fps=rate)
    with atomic_output(out_path) as tmp:
        try:
            for frame in itertools.islice(stream, args.max_frames or None):
                record = dict(frame_id=frame['frame_index'] + 1)
                records.append(record)
                if frame['error']:
                    print(f'skipped: {frame["error"]}')
                    stats['failed'] += 1
                    record.update(instances=[], error=frame['error'])
                    continue
                count(stats, frame['faces'])
                record['instances'] = faces_to_json(frame['faces'])
                vis = draw(args, frame['image'], frame['faces'], landmarker,
                           drawer)
                if writer is None:
                    size = vis.shape[1::-1]
                    writer = cv2.VideoWriter(
                        tmp, cv2.VideoWriter_fourcc(*'mp4v'), rate or 30.,
                        size)
                    if not writer.isOpened():
                        raise FaceInputError(f'OpenCV cannot write an mp4 '
                                             f'video to {args.out_dir!r}')
                writer.write(cv2.resize(vis, size))
        except KeyboardInterrupt:
            if not camera:
                raise
            print('stopped (Ctrl-C): closing the recording')
        finally:
            stream.close()
            if writer is not None:
                writer.release()
        if writer is None:
            raise FaceInputError(
                f'{"camera" if camera else "video"} {source!r} gave no '
                f'readable frame ({stats["failed"]} failed to decode)')
    seconds = time.perf_counter() - start
    stats['seconds'] += seconds
    print(f'annotated video: {out_path}')
    out = osp.join(args.out_dir, f'results_{stem}.json')
    atomic_write_json(dict(meta_info=landmarker.model.dataset_meta,
                           instance_info=records), out, indent=1)
    print(f'predictions: {out}')
    print(f'video: {stats["frames"]} frames in {seconds:.1f} s, '
          f'{stats["frames"] / max(seconds, 1e-9):.1f} fps (detector every '
          f'{args.detect_every} frames and when a face is lost, smoothing '
          f'{"off" if args.no_smoothing else "on"})')


def count(stats: dict, faces: list) -> None:
    stats['frames'] += 1
    stats['faces'] += len(faces)
    stats['no_face'] += int(not faces)


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
