#!/usr/bin/env python
"""Facial landmarks on an image, a folder of images or a video.

Faces are found with OpenCV's Haar cascade (offline, ships with
opencv-python) or an MMDetection detector (``--det-config`` and
``--det-checkpoint``); landmarks come from the bundled RHT model or any MMPose
top-down face model (``--config`` and ``--checkpoint``).

Examples::

    python demo/face_demo.py demo/resources/astronaut.png --out-dir outputs/demo
    python demo/face_demo.py photos/ --out-dir outputs/photos --save-json \\
        --config configs/rht_res50_300w.py --checkpoint rht.pth \\
        --show-boundaries --show-heatmaps --show-reference

Outputs (written atomically: a temporary file, then a rename): the annotated
image ``OUT_DIR/<name>`` (a video: ``OUT_DIR/<stem>.mp4``) and with
``--save-json`` ``OUT_DIR/results_<stem>.json`` in mmpose's demo format
(``meta_info`` + ``instance_info``).

Exit status: 0 when the input was processed (also when no face was found),
2 for bad input (missing path, not an image, empty folder, unreadable
video, unwritable output directory, tiny image, a checkpoint that does not
fit its config), reported in one line without a traceback.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Tuple

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
    parser.add_argument('input', help='image, folder of images, or video')
    parser.add_argument('--out-dir', default='outputs/face_demo',
                        help='output folder (created if needed)')
    parser.add_argument('--config', default=None,
                        help='pose config (default: the bundled model, or '
                        'the config saved in --checkpoint)')
    parser.add_argument('--checkpoint', default=None,
                        help='pose checkpoint (default: the bundled model)')
    parser.add_argument('--det-config', default=None,
                        help='mmdet face detector config (default: OpenCV '
                        'Haar cascade)')
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
                        help='draw boundary curves through the landmarks')
    parser.add_argument('--show-heatmaps', action='store_true',
                        help='add a panel with the predicted heatmaps')
    parser.add_argument('--show-reference', action='store_true',
                        help='add a panel with the reference face used')
    parser.add_argument('--save-json', action='store_true',
                        help='save predictions as json (mmpose format)')
    parser.add_argument('--kpt-thr', type=float, default=0.0,
                        help='hide landmarks with a lower score')
    parser.add_argument('--radius', type=int, default=2,
                        help='landmark radius')
    parser.add_argument('--thickness', type=int, default=1,
                        help='line width')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- inputs
def collect_inputs(path: str) -> Tuple[str, List[str]]:
    """Check the input before any model is loaded.

    Returns:
        tuple: kind (``'image' | 'folder' | 'video'``) and the files.
    """
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
def predictions_to_json(model, samples) -> list:
    """mmpose's ``split_instances`` plus the reference index of RHT."""
    from mmpose.structures import split_instances
    from rht_mmpose.visualization import merge_face_samples
    if not samples:
        return []
    instances = split_instances(merge_face_samples(samples)[0].pred_instances)
    for inst, sample in zip(instances, samples):
        ref = sample.metainfo.get('ref_pool_index', None)
        if ref is not None:
            inst['reference_index'] = [int(i) for i in np.atleast_1d(ref)]
    return instances


class FaceDemo:
    """Model, detector and drawer of one demo run."""

    def __init__(self, args: argparse.Namespace):
        from rht_mmpose.visualization import FaceResultDrawer
        self.args = args
        self.model = init_face_model(
            args.config,
            args.checkpoint,
            device=args.device,
            reference_pool=args.reference_dir,
            cfg_options=args.cfg_options)
        self.detector = None
        if not args.whole_image:
            kwargs = dict(nms_thr=args.nms_thr)
            if args.det_config is not None:
                kwargs.update(cat_id=args.det_cat_id, score_thr=args.bbox_thr)
            self.detector = build_face_detector(
                args.det_config, args.det_checkpoint, args.device, **kwargs)
        boundaries = None
        if args.show_boundaries:
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
        """Detect faces and predict their landmarks (timed)."""
        start = time.perf_counter()
        if self.detector is None:
            boxes = None
        else:
            boxes = self.detector(img)
        samples = [] if boxes is not None and len(boxes) == 0 else \
            inference_faces(self.model, img, boxes,
                            return_heatmaps=self.args.show_heatmaps)
        self.seconds += time.perf_counter() - start
        self.num_faces += len(samples)
        return samples

    def draw(self, img: np.ndarray, samples: list) -> np.ndarray:
        refs = None
        if self.args.show_reference:
            refs = [get_reference_used(self.model, s) for s in samples]
        return self.drawer.draw(
            img,
            samples,
            show_boundaries=self.args.show_boundaries,
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
            say(f'no face found in {path}')
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


def run_video(demo: FaceDemo, path: str, out_dir: str) -> dict:
    """Process a video frame by frame into ``OUT_DIR/<stem>.mp4``."""
    stem = osp.splitext(osp.basename(path))[0]
    out_path = osp.join(out_dir, f'{stem}.mp4')
    tmp_path = osp.join(out_dir, f'.{stem}.tmp{os.getpid()}.mp4')
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    done = dict(images=0, no_face=0, failed=0, outputs=[], jsons=[],
                samples={})
    frames_json, writer = [], None
    try:
        bar = _progress(iter(int, 1), max(total, 2), 'frames')
        for frame_id in range(1, 1 << 31):
            ok, frame = cap.read()
            if not ok:
                break
            bar.update(1)
            img = load_image(frame)
            samples = demo.predict(img)
            done['images'] += 1
            done['no_face'] += int(not samples)
            vis = demo.draw(img, samples) if samples else img
            if writer is None:
                writer = cv2.VideoWriter(tmp_path,
                                         cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (vis.shape[1], vis.shape[0]))
                size = (vis.shape[1], vis.shape[0])
            if (vis.shape[1], vis.shape[0]) != size:
                vis = cv2.resize(vis, size)
            writer.write(vis)
            frames_json.append(
                dict(frame_id=frame_id,
                     instances=predictions_to_json(demo.model, samples)))
        bar.close()
        if writer is None:
            raise FaceInputError(f'video {path!r} has no readable frame')
        writer.release()
        writer = None
        os.replace(tmp_path, out_path)
    finally:
        cap.release()
        if writer is not None:
            writer.release()
        if osp.exists(tmp_path):
            os.remove(tmp_path)
    done['outputs'].append(out_path)
    print(f'annotated video: {out_path}')
    if demo.args.save_json:
        json_path = dump_json_atomic(
            osp.join(out_dir, f'results_{stem}.json'),
            dict(meta_info=demo.model.dataset_meta,
                 instance_info=frames_json))
        done['jsons'].append(json_path)
        print(f'predictions: {json_path}')
    return done


def run(args: argparse.Namespace) -> int:
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
