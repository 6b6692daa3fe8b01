#!/usr/bin/env python
"""Facial landmarks on an image, a folder of images or a video.

Faces are found with MTCNN (default; weights inside the facenet-pytorch
wheel, offline), OpenCV's Haar cascade (``--detector haar``) or an
MMDetection detector (``--det-config`` and ``--det-checkpoint``); landmarks
come from the bundled RHT model or any MMPose top-down face model
(``--config`` and ``--checkpoint``), on the fast path by default (the faces
of an image in one batch, ONNX Runtime, 2 references + flip test) or with
the model's own settings (``--accurate``; ``--cfg-options`` apply there).
Videos and ``--camera N`` are tracked (detector every ``--detect-every``
frames or when a face is lost) and smoothed (One Euro filter,
``--min-cutoff`` / ``--beta``).

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
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Tuple, Union

import cv2
import numpy as np
from mmengine.config import DictAction

from rht_mmpose.apis import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS,
                             FaceInputError, boundary_scheme_of,
                             build_face_detector, check_writable_dir,
                             dump_json_atomic, get_reference_used,
                             imwrite_atomic, inference_faces, init_face_model,
                             load_image)

USER_ERRORS = (FaceInputError, FileNotFoundError, IsADirectoryError,
               NotADirectoryError, PermissionError)
EXIT_USER_ERROR = 2


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Facial landmarks on an image, a folder or a video.')
    parser.add_argument('input', nargs='?', default=None,
                        help='image, folder of images, or video')
    parser.add_argument('--camera', type=int, default=None,
                        help='webcam index (instead of an input path)')
    parser.add_argument('--max-frames', type=int, default=0,
                        help='stop a video / camera after N frames (0: all)')
    parser.add_argument('--accurate', action='store_true',
                        help='the slow, most accurate settings (the model\'s '
                        'own test settings: 10 references + flip test for '
                        'the bundled model); default: the fast path')
    parser.add_argument('--detector', default='mtcnn',
                        choices=['mtcnn', 'haar'],
                        help='face detector when no --det-config is given')
    parser.add_argument('--rotate', action='store_true',
                        help='turn each face crop upright from MTCNN\'s eye '
                        'points (for tilted faces; mtcnn only)')
    parser.add_argument('--min-face-size', type=int, default=40,
                        help='smallest face (pixels) the detector looks for')
    parser.add_argument('--backend', default='hybrid',
                        choices=['hybrid', 'onnx', 'torch'],
                        help='runtime of the fast path')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads (default: 2 at most)')
    parser.add_argument('--detect-every', type=int, default=10,
                        help='video: run the detector every N frames (and '
                        'when a face is lost)')
    parser.add_argument('--no-smoothing', action='store_true',
                        help='video: no One Euro filter on the landmarks')
    parser.add_argument('--min-cutoff', type=float, default=1.0,
                        help='video: One Euro cutoff at rest (Hz; lower = '
                        'smoother)')
    parser.add_argument('--beta', type=float, default=1.0,
                        help='video: One Euro speed coefficient (higher = '
                        'less lag)')
    parser.add_argument('--no-contours', action='store_true',
                        help='draw landmarks as dots only')
    parser.add_argument('--out-dir', default='outputs/face_demo',
                        help='output folder (created if needed)')
    parser.add_argument('--config', default=None,
                        help='pose config (default: the bundled model, or '
                        'the config saved in --checkpoint)')
    parser.add_argument('--checkpoint', default=None,
                        help='pose checkpoint (default: the bundled model)')
    parser.add_argument('--det-config', default=None,
                        help='mmdet face detector config (default: '
                        '--detector)')
    parser.add_argument('--det-checkpoint', default=None,
                        help='mmdet face detector checkpoint')
    parser.add_argument('--det-cat-id', type=int, default=0,
                        help='face category id of the mmdet detector')
    parser.add_argument('--bbox-thr', type=float, default=0.3,
                        help='mmdet box score threshold')
    parser.add_argument('--nms-thr', type=float, default=0.3,
                        help='IoU threshold of the box NMS')
    parser.add_argument('--whole-image', action='store_true',
                        help='no detection: the whole image is one face')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default=None,
        help='override settings of the pose config, as in mmpose, e.g. '
        'model.test_cfg.flip_test=False (about 2x faster) or '
        'model.test_cfg.num_refs=3 (RHT: fuse 3 references)')
    parser.add_argument('--reference-dir', default=None,
                        help='RHT models: folder of reference faces (images '
                        'with 300-W .pts files) replacing the built-in pool')
    parser.add_argument('--show-boundaries', action='store_true',
                        help='draw boundary curves through the landmarks '
                        '(the default now; kept for old command lines)')
    parser.add_argument('--show-heatmaps', action='store_true',
                        help='add a panel with the predicted heatmaps')
    parser.add_argument('--show-reference', action='store_true',
                        help='add a panel with the reference face used')
    parser.add_argument('--save-json', action='store_true',
                        help='save predictions as json (mmpose format)')
    parser.add_argument('--kpt-thr', type=float, default=0.0,
                        help='hide landmarks with a lower score')
    parser.add_argument('--radius', type=int, default=2,
                        help='landmark radius of a face 200 px across '
                        '(others scale with their size)')
    parser.add_argument('--thickness', type=int, default=1,
                        help='line width of a face 140 px across (scales '
                        'the same way)')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- inputs
def collect_inputs(path: str) -> Tuple[str, List[str]]:
    """Check the input before any model is loaded.

    Returns:
        tuple: kind (``'image' | 'folder' | 'video'``) and the files.
    """
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
            raise FaceInputError(
                f'folder {path!r} has no images (looked for '
                f'{", ".join(IMAGE_EXTENSIONS)})')
        return 'folder', files
    ext = osp.splitext(path)[1].lower()
    if ext in VIDEO_EXTENSIONS:
        cap = cv2.VideoCapture(path)
        ok = cap.isOpened() and cap.read()[0]
        cap.release()
        if not ok:
            raise FaceInputError(
                f'cannot open video {path!r} (OpenCV could not read a frame)')
        return 'video', [path]
    load_image(path)  # raises for files that are not images, tiny images
    return 'image', [path]


# ---------------------------------------------------------------- outputs
def faces_to_json(faces: list) -> list:
    """FaceLandmarker faces in the layout of mmpose's ``split_instances``
    (plus ``reference_index`` of RHT models and ``track_id`` on video)."""
    out = []
    for f in faces:
        rec = dict(keypoints=np.asarray(f['keypoints']).tolist(),
                   keypoint_scores=np.asarray(f['keypoint_scores']).tolist(),
                   bbox=[np.asarray(f['box'][:4]).tolist()],
                   bbox_score=float(f['score']))
        if 'track_id' in f:
            rec['track_id'] = int(f['track_id'])
        if 'reference_index' in f:
            rec['reference_index'] = [int(i) for i in f['reference_index']]
        out.append(rec)
    return out


def predictions_to_json(model, samples) -> list:
    """mmpose's ``split_instances`` plus the reference index of RHT (or
    :func:`faces_to_json` for FaceLandmarker faces)."""
    from mmpose.structures import split_instances
    from rht_mmpose.visualization import merge_face_samples
    if not samples:
        return []
    if isinstance(samples[0], dict):
        return faces_to_json(samples)
    instances = split_instances(merge_face_samples(samples)[0].pred_instances)
    for inst, sample in zip(instances, samples):
        ref = sample.metainfo.get('ref_pool_index', None)
        if ref is not None:
            inst['reference_index'] = [int(i) for i in np.atleast_1d(ref)]
    return instances


class WholeImage:
    """The "detector" of ``--whole-image``: the image is one face."""

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        return np.array([[0, 0, w, h, 1.]], np.float32)


class FaceDemo:
    """Model, detector, landmarker and drawer of one demo run."""

    def __init__(self, args: argparse.Namespace):
        from rht_mmpose.apis import FaceLandmarker
        from rht_mmpose.visualization import FaceResultDrawer
        self.args = args
        if (args.det_config is None) != (args.det_checkpoint is None):
            raise FaceInputError(
                'give both --det-config and --det-checkpoint, or neither '
                '(then --detector is used, default mtcnn)')
        self.model = init_face_model(
            args.config,
            args.checkpoint,
            device=args.device,
            reference_pool=args.reference_dir,
            cfg_options=args.cfg_options)
        detector = args.detector
        if args.whole_image:
            detector = WholeImage()
        elif args.det_config is not None:
            detector = build_face_detector(
                args.det_config, args.det_checkpoint, args.device,
                nms_thr=args.nms_thr, cat_id=args.det_cat_id,
                score_thr=args.bbox_thr)
        # heatmap / reference panels need the model's own data samples
        self.use_samples = bool(args.show_heatmaps or args.show_reference)
        self.landmarker = FaceLandmarker(
            model=self.model, fast=not args.accurate, detector=detector,
            min_face_size=args.min_face_size, backend=args.backend,
            num_threads=args.threads, device=args.device,
            rotate=args.rotate or None)
        self.contours = args.show_boundaries or not args.no_contours
        boundaries = None
        if self.contours:
            scheme = boundary_scheme_of(self.model)
            if scheme is None:
                print('note: no boundary layout for this keypoint scheme; '
                      'drawing landmarks only')
            else:
                from rht_mmpose.codecs.boundary_tables import get_boundaries
                boundaries = get_boundaries(scheme)
        self.drawer = FaceResultDrawer(
            self.model.dataset_meta or {},
            boundaries=boundaries,
            radius=args.radius,
            line_width=args.thickness,
            kpt_thr=args.kpt_thr)
        self.num_faces = 0
        self.seconds = 0.0

    def predict(self, img: np.ndarray) -> list:
        """Detect faces and predict their landmarks (timed): FaceLandmarker
        faces (dicts), or the model's data samples for the panels."""
        start = time.perf_counter()
        boxes, angles = self.landmarker.detect(img)
        if len(boxes) == 0:
            samples = []
        elif self.use_samples:
            samples = inference_faces(self.model, img, boxes,
                                      return_heatmaps=self.args.show_heatmaps)
        else:
            samples = self.landmarker.faces_from(
                boxes, angles,
                self.landmarker.predict_boxes(img, boxes, angles))
        self.seconds += time.perf_counter() - start
        self.num_faces += len(samples)
        return samples

    def draw(self, img: np.ndarray, samples: list) -> np.ndarray:
        if samples and isinstance(samples[0], dict):
            return self.drawer.draw_faces(img, samples,
                                          contours=self.contours)
        refs = None
        if self.args.show_reference:
            refs = [get_reference_used(self.model, s) for s in samples]
        return self.drawer.draw(
            img,
            samples,
            show_boundaries=self.contours,
            show_heatmaps=self.args.show_heatmaps,
            references=refs)


def _progress(items, total: int, desc: str):
    from tqdm import tqdm
    return tqdm(items, total=total, desc=desc, unit='img' if desc ==
                'images' else 'frame', file=sys.stderr,
                disable=total <= 1, dynamic_ncols=True)


def run_images(demo: FaceDemo, files: List[str], out_dir: str) -> dict:
    """Process images; returns counts and the output paths."""
    from tqdm import tqdm
    done = dict(images=0, no_face=0, failed=0, outputs=[], jsons=[],
                samples={})
    single = len(files) == 1
    for path in _progress(files, len(files), 'images'):
        say = print if single else tqdm.write
        try:
            img = load_image(path)
        except USER_ERRORS as e:
            if single:
                raise
            say(f'skipped: {e}')
            done['failed'] += 1
            continue
        samples = demo.predict(img)
        done['images'] += 1
        done['samples'][path] = samples
        if not samples:
            done['no_face'] += 1
            say(f'no face found in {path} (faces smaller than '
                f'{demo.args.min_face_size} px are not looked for: '
                f'--min-face-size)')
            continue
        name = osp.basename(path)
        stem = osp.splitext(name)[0]
        out_path = imwrite_atomic(osp.join(out_dir, name),
                                  demo.draw(img, samples))
        done['outputs'].append(out_path)
        say(f'annotated image: {out_path} ({len(samples)} faces)')
        if demo.args.save_json:
            json_path = dump_json_atomic(
                osp.join(out_dir, f'results_{stem}.json'),
                dict(
                    meta_info=demo.model.dataset_meta,
                    instance_info=predictions_to_json(demo.model, samples)))
            done['jsons'].append(json_path)
            say(f'predictions: {json_path}')
    return done


def run_video(demo: FaceDemo, source: Union[str, int],
              out_dir: str) -> dict:
    """Track faces through a video file or a camera (an index) into
    ``OUT_DIR/<stem>.mp4`` and ``OUT_DIR/results_<stem>.json`` (one entry
    per frame read, ``frame_id`` counted from 1 as in the source); both
    appear only when complete (a temporary file, then a rename).

    An unreadable frame is reported, left out of the video and listed in
    the json with its ``error``; the rest is processed. A camera records
    until ``--max-frames`` or Ctrl-C, which ends the recording normally.
    """
    args = demo.args
    camera = isinstance(source, int)
    stem = f'camera{source}' if camera else \
        osp.splitext(osp.basename(source))[0]
    out_path = osp.join(out_dir, f'{stem}.mp4')
    tmp_path = osp.join(out_dir, f'.{stem}.tmp{os.getpid()}.mp4')
    rate = 30.
    if not camera:
        cap = cv2.VideoCapture(source)
        rate = cap.get(cv2.CAP_PROP_FPS) or 30.
        cap.release()
    done = dict(images=0, no_face=0, failed=0, outputs=[], jsons=[],
                samples={})
    frames_json, writer, size = [], None, None
    start = time.perf_counter()
    stream = demo.landmarker.video(
        source, detect_every=args.detect_every,
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
                    done['failed'] += 1
                    frames_json.append(dict(frame_id=index + 1, instances=[],
                                            error=frame['error']))
                    continue
                img, faces = frame['image'], frame['faces']
                done['images'] += 1
                done['no_face'] += int(not faces)
                demo.num_faces += len(faces)
                vis = demo.draw(img, faces) if faces else img
                if writer is None:
                    size = (vis.shape[1], vis.shape[0])
                    writer = cv2.VideoWriter(
                        tmp_path, cv2.VideoWriter_fourcc(*'mp4v'), rate, size)
                    if not writer.isOpened():
                        raise FaceInputError(
                            f'OpenCV cannot write an mp4 video to {out_dir!r}')
                if (vis.shape[1], vis.shape[0]) != size:
                    vis = cv2.resize(vis, size)
                writer.write(vis)
                frames_json.append(dict(frame_id=index + 1,
                                        instances=faces_to_json(faces)))
        except KeyboardInterrupt:
            if not camera:
                raise
            print('stopped (Ctrl-C): closing the recording')
        finally:
            stream.close()
        seconds = time.perf_counter() - start
        demo.seconds += seconds
        if writer is None:
            raise FaceInputError(
                f'{"camera" if camera else "video"} {source!r} gave no '
                f'readable frame ({done["failed"]} failed to decode)')
        writer.release()
        writer = None
        os.replace(tmp_path, out_path)
    finally:
        if writer is not None:
            writer.release()
        if osp.exists(tmp_path):
            os.remove(tmp_path)
    done['outputs'].append(out_path)
    print(f'annotated video: {out_path}')
    json_path = dump_json_atomic(
        osp.join(out_dir, f'results_{stem}.json'),
        dict(meta_info=demo.model.dataset_meta, instance_info=frames_json))
    done['jsons'].append(json_path)
    print(f'predictions: {json_path}')
    print(f'video: {done["images"]} frames in {seconds:.1f} s, '
          f'{done["images"] / max(seconds, 1e-9):.1f} fps (detector every '
          f'{args.detect_every} frames and when a face is lost, smoothing '
          f'{"off" if args.no_smoothing else "on"})')
    return done


def check_options(args: argparse.Namespace) -> None:
    """Option values, checked before any model is loaded."""
    if args.input is not None and args.camera is not None:
        raise FaceInputError(f'give an input path or --camera, not both '
                             f'(got {args.input!r} and --camera '
                             f'{args.camera})')
    limits = [('--detect-every', args.detect_every, 1),
              ('--max-frames', args.max_frames, 0),
              ('--radius', args.radius, 1), ('--thickness', args.thickness, 1)]
    if args.threads is not None:
        limits.append(('--threads', args.threads, 1))
    if args.detector == 'mtcnn' and args.det_config is None:
        limits.append(('--min-face-size', args.min_face_size, 12))
    else:
        limits.append(('--min-face-size', args.min_face_size, 1))
    for name, value, low in limits:
        if value < low:
            raise FaceInputError(f'{name} {value}: expected an integer >= '
                                 f'{low}')
    if not args.min_cutoff > 0:
        raise FaceInputError(f'--min-cutoff {args.min_cutoff}: expected a '
                             f'frequency > 0 Hz')
    if not args.beta >= 0:
        raise FaceInputError(f'--beta {args.beta}: expected a value >= 0')
    if args.rotate and (args.detector != 'mtcnn' or args.det_config
                        or args.whole_image):
        used = ('--whole-image' if args.whole_image else '--det-config'
                if args.det_config else f'--detector {args.detector}')
        raise FaceInputError(f'--rotate needs MTCNN\'s eye points '
                             f'(--detector mtcnn), got {used}')


def run(args: argparse.Namespace) -> int:
    check_options(args)
    if args.camera is not None:
        kind, files = 'video', [args.camera]
        cap = cv2.VideoCapture(args.camera)
        ok = cap.isOpened()
        cap.release()
        if not ok:
            raise FaceInputError(f'cannot open camera {args.camera}')
    else:
        kind, files = collect_inputs(args.input)
    out_dir = check_writable_dir(args.out_dir)
    demo = FaceDemo(args)
    if kind == 'video':
        done = run_video(demo, files[0], out_dir)
        unit = 'frames'
    else:
        done = run_images(demo, files, out_dir)
        unit = 'images'
    per_face = demo.seconds / demo.num_faces if demo.num_faces else \
        float('nan')
    print(f'summary: {demo.num_faces} faces in {done["images"]} {unit} '
          f'({done["no_face"]} without a face, {done["failed"]} unreadable), '
          f'{per_face:.3f} s per face')
    if done['images'] == 0:
        print('error: no input could be read', file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except USER_ERRORS as e:
        msg = e.args[0] if isinstance(e, OSError) and len(e.args) == 1 \
            else str(e)
        print(f'error: {msg}', file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
