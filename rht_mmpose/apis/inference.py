"""Load a face landmark model (any MMPose top-down face model; an RHT
model carries its reference pool) and run it on the faces of an image.

Note: N faces (boxes) of an image, K landmarks, R faces in a pool.
"""
import copy
import os
import os.path as osp
from contextlib import contextmanager
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from ..utils.errors import FaceInputError
from ..utils.face_geometry import (check_boxes, crop_faces, crop_warps,
                                   landmark_box, test_dataset_cfg,
                                   unturn_keypoints, warp_points)
from ..utils.io import IMAGE_EXTENSIONS, load_image, read_face_points

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The model used when no config / checkpoint is given (the demo's default):
# a plain MMPose model, config + checkpoint, that ``mmpose.apis.init_model``,
# ``MMPoseInferencer`` and ``tools/test.py`` load alike (the checkpoint also
# embeds the config, ``meta['cfg']``). RHT-MNv2 (ImageNet MobileNetV2
# start) with the correspondence loss, its reference pool and its shape
# refiner in its state dict (checkpoints/README.md). Swapping the default
# is this one name.
BUNDLED_MODEL = 'rht_mnv2_300w'
BUNDLED_CHECKPOINT = osp.join(REPO_ROOT, 'checkpoints', f'{BUNDLED_MODEL}.pth')
BUNDLED_CONFIG = osp.join(REPO_ROOT, 'configs', f'{BUNDLED_MODEL}.py')
# meta keys of checkpoints written before the pool and the shape refiner
# were parts of the model (now both are in the state dict)
LEGACY_META_KEYS = ('reference_pool_compact', 'shape_refiner')

ImageType = Union[str, os.PathLike, np.ndarray]


# ---------------------------------------------------------------- loading
def _read_config(config, checkpoint_meta: Optional[dict]):
    """(config, the name errors give it)."""
    if isinstance(config, Config):
        return copy.deepcopy(config), '<Config>'
    if config is None:
        text = (checkpoint_meta or {}).get('cfg')
        if isinstance(text, str) and text.strip():
            return (Config.fromstring(text, '.py'),
                    'embedded in the checkpoint')
        if osp.isfile(BUNDLED_CONFIG):
            return Config.fromfile(BUNDLED_CONFIG), BUNDLED_CONFIG
        raise FaceInputError(
            'the checkpoint carries no config and no config was given: pass '
            'the config it was trained with (--config)')
    path = os.fspath(config)
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} does not exist')
    try:
        return Config.fromfile(path), config
    except Exception as e:  # syntax errors, bad _base_ paths
        raise FaceInputError(f'could not read config {path!r}: {e}') from e


def _read_checkpoint(path: str) -> dict:
    from mmengine.runner.checkpoint import _load_checkpoint
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    try:
        ckpt = _load_checkpoint(path, map_location='cpu')
    except Exception as e:
        raise FaceInputError(
            f'could not read checkpoint {path!r}: {type(e).__name__}: {e}'
        ) from None
    if not isinstance(ckpt, dict):
        raise FaceInputError(f'checkpoint {path!r} holds a '
                             f'{type(ckpt).__name__}, expected a state dict')
    return ckpt


def _state_dict(ckpt: dict) -> dict:
    sd = ckpt.get('state_dict', ckpt)
    return {(k[7:] if k.startswith('module.') else k): v
            for k, v in sd.items() if isinstance(v, torch.Tensor)}


def _describe_channels(c: int) -> str:
    """'68 keypoints' or '68 keypoints + 13 boundaries' for heatmap channels."""
    from rht_mmpose.codecs.face_schemes import BOUNDARY_TABLES, channel_count
    for scheme in BOUNDARY_TABLES:
        k, p = channel_count(scheme)
        if c == k + p:
            return f'{k} keypoints + {p} boundaries'
    return f'{c} keypoints'


def _check_checkpoint_fits(model: nn.Module, ckpt: dict, ckpt_path: str,
                           cfg_name: str,
                           cfg_num_keypoints: Optional[int]) -> None:
    """Raise FaceInputError when the checkpoint's keypoint count (or any
    parameter shape) does not match the model built from the config."""
    meta = ckpt.get('meta', None) or {}
    ckpt_k = (meta.get('dataset_meta', None) or {}).get('num_keypoints')
    if ckpt_k is not None and cfg_num_keypoints is not None and \
            int(ckpt_k) != int(cfg_num_keypoints):
        raise FaceInputError(
            f'checkpoint {ckpt_path!r} was trained for {int(ckpt_k)} '
            f'keypoints but config {cfg_name!r} has {cfg_num_keypoints} '
            f'keypoints; use the config the checkpoint was trained with')
    sd = _state_dict(ckpt)
    model_sd = model.state_dict()
    common = [k for k in model_sd if k in sd]
    if model_sd and not common:
        raise FaceInputError(
            f'checkpoint {ckpt_path!r} has none of the parameters of the '
            f'model built from config {cfg_name!r} (is it a checkpoint of '
            f'another model?)')
    # empty buffers (RHT's reference pool) take the checkpoint's size
    bad = [
        k for k in common if sd[k].shape != model_sd[k].shape
        and model_sd[k].numel() > 0
    ]
    if not bad:
        return
    head_bad = [k for k in bad if k.startswith('head.')]
    if head_bad:
        k = head_bad[-1]
        c_ckpt, c_cfg = int(sd[k].shape[0]), int(model_sd[k].shape[0])
        if c_ckpt != c_cfg:
            raise FaceInputError(
                f'checkpoint {ckpt_path!r} predicts '
                f'{_describe_channels(c_ckpt)} but config {cfg_name!r} '
                f'builds a model for {_describe_channels(c_cfg)} '
                f'({k}: {tuple(sd[k].shape)} vs {tuple(model_sd[k].shape)})')
    k = bad[0]
    raise FaceInputError(
        f'checkpoint {ckpt_path!r} does not fit config {cfg_name!r}: '
        f'{len(bad)} parameters differ in shape, e.g. {k} is '
        f'{tuple(sd[k].shape)} in the checkpoint and '
        f'{tuple(model_sd[k].shape)} in the model')


def _dataset_meta_from_config(cfg: Config) -> Optional[dict]:
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.registry import DATASETS
    for mode in ('train', 'test', 'val'):
        loader = cfg.get(f'{mode}_dataloader', None)
        ds = loader.get('dataset', None) if loader else None
        while isinstance(ds, dict):
            if ds.get('metainfo', None) is not None:
                return parse_pose_metainfo(ds['metainfo'])
            try:
                cls = DATASETS.get(ds['type'])
            except Exception:
                cls = None
            if cls is not None and getattr(cls, 'METAINFO', None):
                return parse_pose_metainfo(cls.METAINFO)
            ds = ds.get('dataset', None)
    return None


# Transforms of a test pipeline that need ground truth (absent at inference).
TARGET_TRANSFORMS = ('GenerateTarget', 'mmpose.GenerateTarget')


def _strip_target_transforms(cfg: Config) -> None:
    """Drop target generation from the test pipeline (some configs share
    one pipeline between training and testing); ``inference_topdown`` runs
    this pipeline on images without keypoints."""
    ds = test_dataset_cfg(cfg)
    pipeline = ds.get('pipeline', None) if ds else None
    if pipeline:
        ds.pipeline = [
            t for t in pipeline if t.get('type') not in TARGET_TRANSFORMS
        ]


def init_face_model(config: Union[str, Config, None] = None,
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu',
                    reference_pool=None,
                    cfg_options: Optional[dict] = None) -> nn.Module:
    """mmpose's ``init_model`` (the model in eval mode on ``device``, with
    ``cfg`` and ``dataset_meta``), plus: the bundled model when nothing is
    given, the checkpoint's own config (``meta['cfg']``) when only a
    checkpoint is, ``cfg_options`` merged, a user ``reference_pool`` for an
    RHT model (:func:`set_user_reference_pool`), and clear errors:
    FileNotFoundError for a missing file or no bundled model,
    FaceInputError when the checkpoint's keypoint count (or any parameter
    shape) does not fit the config, for a bad device or an unreadable
    config. A config without a checkpoint gives random weights (warned).
    """
    import rht_mmpose  # noqa: F401  registers the plugin's modules
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    from mmpose.models import build_pose_estimator
    from mmengine.model.utils import revert_sync_batchnorm

    if config is None and checkpoint is None:
        if not osp.isfile(BUNDLED_CHECKPOINT):
            raise FileNotFoundError(
                f'no model is bundled yet (expected {BUNDLED_CHECKPOINT}); '
                f'pass a config and a checkpoint (--config CONFIG '
                f'--checkpoint CHECKPOINT)')
        checkpoint = BUNDLED_CHECKPOINT
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise FaceInputError(f'device {device!r} requested but CUDA is not '
                             f'available; use --device cpu')

    ckpt = _read_checkpoint(os.fspath(checkpoint)) if checkpoint else None
    legacy = [k for k in LEGACY_META_KEYS
              if ((ckpt or {}).get('meta', None) or {}).get(k)]
    if legacy:
        raise FaceInputError(
            f'checkpoint {os.fspath(checkpoint)!r} keeps {legacy} in its '
            f'meta, the format before they were parts of the model: convert '
            f'it with python tools/deployment/make_bundle.py --upgrade '
            f'{os.fspath(checkpoint)} --out NEW.pth')
    cfg, cfg_name = _read_config(config, (ckpt or {}).get('meta', None))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise FaceInputError(f'config {cfg_name!r} has no model')
    cfg.model.train_cfg = None
    _strip_target_transforms(cfg)
    if 'pretrained' in cfg.model:
        cfg.model.pretrained = None
    # Do not download backbone weights that the checkpoint overwrites.
    if checkpoint and isinstance(cfg.model.get('backbone', None), dict):
        cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.get('default_scope', 'mmpose'))

    model = build_pose_estimator(cfg.model)
    model = revert_sync_batchnorm(model)
    dataset_meta = _dataset_meta_from_config(cfg)
    if ckpt is not None:
        cfg_k = dataset_meta.get('num_keypoints') if dataset_meta else None
        _check_checkpoint_fits(model, ckpt, os.fspath(checkpoint),
                               str(cfg_name), cfg_k)
        _load_checkpoint_to_model(
            model, ckpt, strict=False, revise_keys=[(r'^module\.', '')])
        meta = ckpt.get('meta', None) or {}
        if meta.get('dataset_meta', None):
            dataset_meta = meta['dataset_meta']
    else:
        print(f'warning: no checkpoint given for config {cfg_name!r}; the '
              f'model has random weights')
    model.dataset_meta = dataset_meta
    model.cfg = cfg
    model.to(device)
    model.eval()
    if reference_pool is not None:
        set_user_reference_pool(model, reference_pool)
    return model


# ------------------------------------------------------------ references
def pool_from_folder(folder: str):
    """Image paths and (K, 2) landmarks (0-based pixel centres) of a folder
    of images with 300-W ``.pts`` files (1-based) beside them."""
    images, keypoints = [], []
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        pts = osp.join(folder, stem + '.pts')
        if ext.lower() in IMAGE_EXTENSIONS and osp.isfile(pts):
            images.append(osp.join(folder, name))
            keypoints.append(read_face_points(pts, images[-1]))
    if not images:
        raise FaceInputError(
            f'reference folder {folder!r} has no image with a .pts file '
            f'beside it')
    return images, keypoints


def crop_reference_faces(model: nn.Module, images: Sequence[ImageType],
                         keypoints: Sequence[np.ndarray]) -> dict:
    """Crop R reference faces (paths or BGR arrays, with (K, 2) landmarks
    in image pixels) as the test pipeline crops a target (landmark box
    padded 1.25, warped to ``codec.input_size``), downsampled
    (``INTER_AREA``) to ``head.ref_size`` r: ``images`` (R, r, r, 3) uint8
    BGR and ``keypoints`` (R, K, 2) in their pixels (the pool renders the
    heatmaps)."""
    import cv2
    if len(images) != len(keypoints) or not len(images):
        raise FaceInputError(
            f'a reference pool needs as many landmark arrays as images '
            f'(at least one), got {len(images)} images and '
            f'{len(keypoints)} landmark arrays')
    in_size = tuple(int(v) for v in model.head.decoder.input_size)
    r = model.head.ref_size
    k_model = (model.dataset_meta or {}).get('num_keypoints')
    crops, points = [], []
    for i, (img, kpts) in enumerate(zip(images, keypoints)):
        kpts = np.asarray(kpts, dtype=np.float32).reshape(1, -1, 2)
        if k_model is not None and kpts.shape[1] != int(k_model):
            raise FaceInputError(
                f'reference {i} has {kpts.shape[1]} landmarks, the model '
                f'expects {k_model}')
        warp = crop_warps(landmark_box(kpts), in_size)
        crop = crop_faces(load_image(img), warp, in_size)[0]
        crops.append(cv2.resize(crop, (r, r), interpolation=cv2.INTER_AREA))
        points.append(warp_points(kpts, warp)[0] *
                      np.float32(r) / np.array(in_size, np.float32))
    return dict(images=np.stack(crops), keypoints=np.stack(points))


def set_user_reference_pool(model: nn.Module, reference_pool) -> dict:
    """Crop a user pool, ``dict(images=[...], keypoints=[...])`` (see
    :func:`crop_reference_faces`) or a folder of images with 300-W ``.pts``
    files, and install it in an RHT model; returns the cropped pool with
    the ``heatmaps`` (R, C, r, r) float32 the model rendered."""
    if not callable(getattr(model, 'set_reference_pool', None)):
        raise FaceInputError(
            f'{type(model).__name__} does not use reference faces; a '
            f'reference pool needs an RHT model')
    if isinstance(reference_pool, (str, os.PathLike)):
        folder = os.fspath(reference_pool)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'reference folder {folder!r} does not exist')
        images, keypoints = pool_from_folder(folder)
    elif isinstance(reference_pool, dict):
        images = reference_pool.get('images', None)
        keypoints = reference_pool.get('keypoints',
                                       reference_pool.get('landmarks', None))
        if images is None or keypoints is None:
            raise FaceInputError(
                'reference_pool must have "images" and "keypoints", got '
                f'keys {sorted(reference_pool)}')
    else:
        raise FaceInputError(
            'reference_pool must be a dict(images=..., keypoints=...) or a '
            f'folder, got {type(reference_pool).__name__}')
    pool = crop_reference_faces(model, images, keypoints)
    model.set_reference_pool(pool['images'], pool['keypoints'])
    pool['heatmaps'] = model.reference_pool.heatmaps.float().cpu().numpy()
    return pool


# -------------------------------------------------------------- inference
@contextmanager
def test_cfg_set(model: nn.Module, **values):
    """``model.test_cfg`` with ``values`` for the duration of a block; a
    key that was absent is removed again. None values change nothing."""
    cfg = getattr(model, 'test_cfg', None)
    values = {k: v for k, v in values.items() if v is not None}
    if not isinstance(cfg, dict) or not values:
        yield
        return
    saved = {k: cfg[k] for k in values if k in cfg}
    cfg.update(values)
    try:
        yield
    finally:
        for k in values:
            cfg.pop(k, None)
        cfg.update(saved)


def inference_faces(model: nn.Module,
                    img: ImageType,
                    bboxes: Optional[np.ndarray] = None,
                    bbox_format: str = 'xyxy',
                    return_heatmaps: bool = False,
                    refine: bool = True,
                    angles: Optional[np.ndarray] = None) -> list:
    """Predict the landmarks of faces in one image: mmpose's
    ``inference_topdown`` (the config's test pipeline, the model's
    ``test_step``).

    Args:
        model (nn.Module): From :func:`init_face_model` or ``init_model``.
        img (str | np.ndarray): Image path or BGR array; grey, grey+alpha,
            BGRA, 16-bit and float images are converted to BGR uint8.
        bboxes (np.ndarray, optional): (N, 4) boxes, or (N, 5) with scores;
            ``None``: the whole image is one face.
        bbox_format (str): ``'xyxy'`` or ``'xywh'``.
        return_heatmaps (bool): Also give ``pred_fields.heatmaps``.
        refine (bool): The model's shape refiner, when fitted, on (its
            ``test_cfg.refine_shape``).
        angles (np.ndarray, optional): (N,) degrees (xyxy boxes): each crop
            turned so that a face tilted that much is upright (the
            pipeline's ``bbox_rotation``), the keypoints mapped back through
            the same warp (the shape refiner works in the frame of two
            landmarks, so turning does not change it).

    Returns:
        list[PoseDataSample]: N samples; ``pred_instances`` holds
        ``keypoints`` (1, K, 2) in image pixels, ``keypoint_scores`` (1, K),
        ``bboxes`` (1, 4) xyxy and ``bbox_scores`` (1,).
    """
    from mmpose.apis import inference_topdown
    if bbox_format not in ('xyxy', 'xywh'):
        raise FaceInputError(f"bbox_format must be 'xyxy' or 'xywh', got "
                             f'{bbox_format!r}')
    img_path = os.fspath(img) if isinstance(img, (str, os.PathLike)) \
        else None
    image = load_image(img)
    h, w = image.shape[:2]
    if bboxes is None:
        boxes, bbox_format = np.array([[0, 0, w, h]], np.float32), 'xyxy'
    else:
        boxes = check_boxes(bboxes, 'bboxes')
        if len(boxes) == 0:
            return []
    with test_cfg_set(model, refine_shape=bool(refine),
                      output_heatmaps=True if return_heatmaps else None):
        samples = inference_topdown(model, image, boxes[:, :4], bbox_format) \
            if angles is None else _inference_rotated(model, image,
                                                      boxes[:, :4], angles)
    for i, sample in enumerate(samples):
        sample.set_metainfo(dict(img_path=img_path, ori_shape=(h, w)))
        if boxes.shape[1] == 5:
            sample.pred_instances.bbox_scores = boxes[i:i + 1, 4].copy()
    return samples


def _inference_rotated(model: nn.Module, image: np.ndarray,
                       boxes: np.ndarray, angles: np.ndarray) -> list:
    """``inference_topdown`` with each crop turned by ``-angles`` (the
    pipeline's ``bbox_rotation``), keypoints mapped back through the
    inverse of the crop's own warp (the model maps them back unturned)."""
    import torch
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    init_default_scope(model.cfg.get('default_scope', 'mmpose'))
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = [
        pipeline(dict(img=image, bbox=box[None], bbox_score=np.ones(1,
                      np.float32), bbox_rotation=np.array([-float(a)],
                      np.float32), **model.dataset_meta))
        for box, a in zip(boxes, np.asarray(angles, np.float32))
    ]
    with torch.no_grad():
        samples = model.test_step(pseudo_collate(data))
    for s, a in zip(samples, angles):
        s.pred_instances.keypoints = unturn_keypoints(
            s.pred_instances.keypoints, s.metainfo, -float(a))
    return samples


def get_reference_used(model: nn.Module, sample) -> Optional[dict]:
    """The pool references ``model`` used for one face (a sample of
    :func:`inference_faces` or a :class:`FaceLandmarker` face): ``index``
    (k pool indices), ``image`` (R, R, 3) uint8 BGR and ``heatmaps``
    (C, R, R) float32 of the first; None for models without references."""
    idx = sample.get('reference_index') if isinstance(sample, dict) \
        else sample.metainfo.get('ref_pool_index', None)
    pool = getattr(model, 'reference_pool', None)
    if idx is None or pool is None:
        return None
    idx = [int(i) for i in np.atleast_1d(idx)]
    return dict(
        index=idx,
        image=pool.images[idx[0]].permute(1, 2, 0).cpu().numpy(),
        heatmaps=pool.heatmaps[idx[0]].float().cpu().numpy())
