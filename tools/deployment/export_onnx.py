#!/usr/bin/env python
"""Export a face landmark model's forward to ONNX and check it against
PyTorch with onnxruntime on a real face.

Exported graph (inputs are normalised like the data preprocessor's output:
channel flip to RGB, ``(x - mean) / std``; mean, std and sizes are stored
in the ONNX metadata ``rht_mmpose``):

- a plain MMPose top-down model: ``input`` (1, 3, H, W) -> backbone + neck +
  head forward -> ``heatmaps`` (1, K, h, w) (every output of the head);
- an RHT model (``RHTPoseEstimator`` with a reference branch): ``input``
  (1, 3, 256, 256), ``ref_img`` (1, 3, 128, 128), ``ref_heatmaps``
  (1, K + P, 128, 128) -> ``heatmaps`` (1, K + P, 128, 128). The target at
  128 is made inside the graph (area downsampling) as the model does; STM's
  argmax and block gathers and HTM's ``grid_sample`` are in the graph
  (opset 17 by default; ``GridSample`` needs 16). STM no longer calls
  ``F.fold``; a model that does gets it exported as a ``ScatterElements``
  add (:func:`fold_by_scatter_add`).

The check crops a real face (``--image``, default the bundled demo photo;
the face is found with the Haar cascade) with the config's test pipeline,
takes the reference the model picks for it, and compares the outputs.

Example::

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out model.onnx

Exit status: 0 when the export passed the check, 1 when the outputs differ
by more than ``--atol``, 2 for bad input.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import tempfile
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_IMAGE = osp.join(REPO_ROOT, 'demo', 'resources', 'astronaut.png')
MIN_OPSET = 16
DEFAULT_OPSET = 17  # the newest opset torch 2.1's exporter fully supports


def _flatten(out) -> List[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten(o)]
    raise TypeError(f'cannot export an output of type {type(out).__name__}')


class PlainExportWrapper(nn.Module):
    """Backbone + neck + head forward of a top-down model."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, img: torch.Tensor):
        feats = self.model.extract_feat(img)
        return tuple(_flatten(self.model.head.forward(feats)))


class RHTExportWrapper(nn.Module):
    """RHT forward with the reference as graph inputs."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, img: torch.Tensor, ref_img: torch.Tensor,
                ref_heatmaps: torch.Tensor):
        r = self.model.head.ref_size
        feats = self.model.extract_feat(img)
        target_small = F.interpolate(img, size=(r, r), mode='area')
        from rht_mmpose.models.utils import ReferenceBatch
        refs = ReferenceBatch(target_small, ref_img, ref_heatmaps)
        return tuple(_flatten(self.model.head.forward(feats, refs)))


def is_rht_with_reference(model: nn.Module) -> bool:
    return bool(getattr(model, 'with_reference', False)) and callable(
        getattr(model, 'get_references', None))


def prepare_face(model: nn.Module, image: str) -> Tuple[tuple, List[str]]:
    """Crop a real face with the test pipeline; build the export inputs.

    Returns:
        tuple: (inputs tuple of tensors, input names)
    """
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from rht_mmpose.apis import HaarFaceDetector, load_image

    img = load_image(image)
    boxes = HaarFaceDetector()(img)
    if len(boxes):
        box = boxes[:1, :4]
    else:
        print(f'note: no face detected in {image}, using the whole image')
        box = np.array([[0, 0, img.shape[1], img.shape[0]]], np.float32)
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = dict(img=img, bbox=box, bbox_score=np.ones(1, np.float32))
    data.update(model.dataset_meta or {})
    batch = model.data_preprocessor(pseudo_collate([pipeline(data)]), False)
    inputs, samples = batch['inputs'], batch['data_samples']
    if not is_rht_with_reference(model):
        return (inputs, ), ['input']
    with torch.no_grad():
        ref = model.get_references(inputs, samples)[0]
    return (inputs, ref.ref_img, ref.ref_heatmaps), \
        ['input', 'ref_img', 'ref_heatmaps']


def _pair(v) -> Tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def fold_by_scatter_add(input: torch.Tensor,
                        output_size,
                        kernel_size,
                        dilation=1,
                        padding=0,
                        stride=1) -> torch.Tensor:
    """``F.fold`` written with ``scatter_add`` (ONNX ``ScatterElements``
    with ``reduction='add'``, opset >= 16).

    torch 2.1 exports ``F.fold`` only as ``Col2Im`` (opset 18), and its
    opset-18 export is broken (``Col2Im`` sizes, ``ReduceMax`` axes); the
    sizes are constants here, so every patch element's position in the
    padded output is a constant index.

    Args:
        input (Tensor): (B, C*kh*kw, L) patches, as ``F.unfold`` gives.

    Returns:
        Tensor: (B, C, H, W) sums of the overlapping patches.
    """
    (h, w), (kh, kw) = _pair(output_size), _pair(kernel_size)
    (dh, dw), (ph, pw), (sh, sw) = _pair(dilation), _pair(padding), \
        _pair(stride)
    hp, wp = h + 2 * ph, w + 2 * pw
    nh = (hp - dh * (kh - 1) - 1) // sh + 1
    nw = (wp - dw * (kw - 1) - 1) // sw + 1
    b, ck, length = input.shape
    c = ck // (kh * kw)
    if c * kh * kw != ck or nh * nw != length:
        raise ValueError(f'fold input {tuple(input.shape)} does not match '
                         f'output {(h, w)}, kernel {(kh, kw)}, stride '
                         f'{(sh, sw)}, padding {(ph, pw)}')
    ki, kj = np.meshgrid(np.arange(kh), np.arange(kw), indexing='ij')
    bi, bj = np.meshgrid(np.arange(nh), np.arange(nw), indexing='ij')
    rows = bi.reshape(1, -1) * sh + ki.reshape(-1, 1) * dh  # (kh*kw, L)
    cols = bj.reshape(1, -1) * sw + kj.reshape(-1, 1) * dw
    index = torch.from_numpy((rows * wp + cols).reshape(1, 1, -1)).to(
        input.device)  # (1, 1, kh*kw*L)
    x = input.reshape(b, c, kh * kw * length)
    out = x.new_zeros(b, c, hp * wp).scatter_add(2, index.expand(b, c, -1),
                                                  x)
    return out.reshape(b, c, hp, wp)[:, :, ph:ph + h, pw:pw + w]


@contextlib.contextmanager
def onnx_friendly_fold():
    """Within the block, ``F.fold`` is :func:`fold_by_scatter_add`."""
    original = F.fold
    F.fold = fold_by_scatter_add
    try:
        yield
    finally:
        F.fold = original


def export(model: nn.Module, inputs: tuple, input_names: List[str],
           out: str, opset: int) -> List[str]:
    """Export to ``out`` atomically; returns the output names."""
    import onnx
    wrapper = RHTExportWrapper(model) if len(inputs) == 3 else \
        PlainExportWrapper(model)
    wrapper.eval()
    with torch.no_grad(), onnx_friendly_fold():
        n_out = len(wrapper(*inputs))
    output_names = ['heatmaps'] if n_out == 1 else \
        [f'output_{i}' for i in range(n_out)]
    out_dir = osp.dirname(osp.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix='.export.', suffix='.onnx',
                               dir=out_dir)
    os.close(fd)
    try:
        with torch.no_grad(), onnx_friendly_fold():
            torch.onnx.export(
                wrapper,
                inputs,
                tmp,
                input_names=input_names,
                output_names=output_names,
                opset_version=opset,
                do_constant_folding=True)
        onnx_model = onnx.load(tmp)
        onnx.checker.check_model(onnx_model)
        pre = model.data_preprocessor
        meta = dict(
            input_shapes={n: list(t.shape)
                          for n, t in zip(input_names, inputs)},
            mean=pre.mean.flatten().tolist() if hasattr(pre, 'mean') else
            None,
            std=pre.std.flatten().tolist() if hasattr(pre, 'std') else None,
            bgr_to_rgb=bool(getattr(pre, '_channel_conversion', False)),
            num_keypoints=(model.dataset_meta or {}).get('num_keypoints'))
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = 'rht_mmpose', json.dumps(meta)
        onnx.save(onnx_model, tmp)
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return output_names


def check_parity(model: nn.Module, inputs: tuple, input_names: List[str],
                 out: str) -> float:
    """Max |onnxruntime - PyTorch| over all outputs."""
    import onnxruntime as ort
    wrapper = RHTExportWrapper(model) if len(inputs) == 3 else \
        PlainExportWrapper(model)
    with torch.no_grad():
        ref = [t.cpu().numpy() for t in wrapper(*inputs)]
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = sess.run(None, {
        n: t.cpu().numpy().astype(np.float32)
        for n, t in zip(input_names, inputs)
    })
    diffs = []
    for a, b in zip(ref, got):
        if a.shape != b.shape:
            raise AssertionError(f'output shape {b.shape} from onnxruntime, '
                                 f'{a.shape} from PyTorch')
        diffs.append(float(np.abs(a - b).max()))
    return max(diffs)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a face landmark model to ONNX and check it.')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='model checkpoint')
    parser.add_argument('--out', default='model.onnx', help='output .onnx')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset (>= {MIN_OPSET})')
    parser.add_argument('--image', default=DEFAULT_IMAGE,
                        help='image with a face for the parity check')
    parser.add_argument('--atol', type=float, default=1e-3,
                        help='largest allowed |onnxruntime - PyTorch|')
    parser.add_argument('--skip-check', action='store_true',
                        help='do not compare with onnxruntime')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from rht_mmpose.apis import FaceInputError, init_face_model
    user_errors = (FaceInputError, FileNotFoundError, IsADirectoryError,
                   NotADirectoryError, PermissionError)
    try:
        if args.opset < MIN_OPSET:
            raise FaceInputError(f'--opset {args.opset} is too old: '
                                 f'grid_sample needs opset >= {MIN_OPSET}')
        out_dir = osp.dirname(osp.abspath(args.out))
        if not osp.isdir(out_dir) or not os.access(out_dir, os.W_OK):
            raise FaceInputError(
                f'cannot write {args.out!r}: folder {out_dir!r} does not '
                f'exist or is not writable')
        model = init_face_model(args.config, args.checkpoint, device='cpu')
        inputs, names = prepare_face(model, args.image)
    except user_errors as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    kind = 'RHT (target + reference)' if len(inputs) == 3 else \
        'top-down (backbone + neck + head)'
    export(model, inputs, names, args.out, args.opset)
    print(f'exported {kind} model to {args.out} (opset {args.opset}, '
          'inputs ' + ', '.join(
              f'{n} {tuple(t.shape)}' for n, t in zip(names, inputs)) + ')')
    if args.skip_check:
        return 0
    diff = check_parity(model, inputs, names, args.out)
    ok = diff <= args.atol
    print(f'onnxruntime vs PyTorch on a real face: max |diff| = {diff:.3g} '
          f'({"ok" if ok else "FAILED"}, atol {args.atol:g})')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
