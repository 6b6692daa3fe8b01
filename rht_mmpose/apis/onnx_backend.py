"""The ONNX Runtime backends of :class:`FaceLandmarker` for RHT models:
the faces of one image in one batch, the pool's key / value features
computed once, the codec's decoding, and the model's own parts for the
rest (reference selection :meth:`RHTPoseEstimator.select_references`,
shape refiner, test-time geometry of :mod:`rht_mmpose.utils.face_geometry`).

The network is split in two graphs around the reference selection:

- ``target``: normalised crops (B, 3, H_in, W_in) -> F_G (B, C_G, h, w) and
  the 1x query Q (B, C_1x, H, W) of the crop downsampled to R x R; the
  model's own backbone and neck (``extract_feat``), whatever they are;
- ``head``: F_G, Q and a reference's cached key K (B, C_1x, H, W) and
  values V (1x, 2x, 4x) -> heatmaps (B, K + P, 4H, 4W) (STM, HTM, MSFFM).

With the flip test the flipped crops are extra rows of the same batches and
the flipped pool features are cached too, as :class:`RHTPoseEstimator`
does; k references are k row blocks of one head batch.

Note:
    - N: faces of one image
    - k: references per face
    - K, P: landmarks, boundaries
    - M: faces in the reference pool
"""
import hashlib
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils.errors import FaceInputError
from ..utils.face_geometry import (crop_faces, crop_warps, flip_shift,
                                   fuse_flipped, invert_warps,
                                   normalize_bgr, preprocessor_normalization,
                                   warp_points)

CACHE_DIR = os.environ.get('RHT_MMPOSE_ONNX_CACHE', osp.join(
    os.environ.get('XDG_CACHE_HOME', osp.expanduser('~/.cache')),
    'rht_mmpose', 'onnx'))
# bump when the exported graphs change, so stale cached files are not used
GRAPH_VERSION = 1
# reference selections of these backends (the model's 'fixed' / 'random'
# are for experiments, through the mmpose backend)
FAST_SELECTIONS = ('descriptor', 'stm_match')


class TargetNet(nn.Module):
    """Crops (B, 3, H_in, W_in) -> F_G (B, C_G, h, w), Q (B, C_1x, H, W)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, crops: torch.Tensor):
        fg = self.model.extract_feat(crops)[-1]
        r = self.model.head.ref_size
        small = F.interpolate(crops, size=(r, r), mode='area')
        return fg, self.model.head.extract_query(small)


class HeadNet(nn.Module):
    """F_G, Q, a reference's K and V (1x, 2x, 4x) -> heatmaps
    (B, K + P, 4H, 4W): what :meth:`RHTHead._forward` does with features
    from the pool cache.

    With ``matmul_stm`` STM's correlation and value transfer are written
    as matrix products (:func:`stm_by_matmul`), which ONNX Runtime runs
    several times faster than the gathers and shifted sums the model's
    export path gives (same values up to float rounding); otherwise the
    model's own STM runs.
    """

    def __init__(self, model: nn.Module, matmul_stm: bool = False):
        super().__init__()
        self.head = model.head
        self.matmul_stm = matmul_stm

    def forward(self, fg, query, key, value_1x, value_2x, value_4x):
        head = self.head
        values = [value_1x, value_2x, value_4x]
        soft = hard = None
        if head.use_stm:
            if self.matmul_stm:
                soft = stm_by_matmul(query, key, values, head.stm.scales,
                                     head.stm.eps)
            else:
                soft, _, _ = head.stm(query, key, values)
        if head.use_htm:
            hard, _ = head.htm(query, key, values)
        return head.neck(fg, soft, hard)


def _patches(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 9C, N): every position's zero-padded 3x3 patch,
    offsets in row-major order (as ``F.unfold(x, 3, padding=1)`` up to the
    order of the 9C rows, which a dot product does not see)."""
    b, c, h, w = x.shape
    pad = F.pad(x, (1, 1, 1, 1))
    return torch.cat([
        pad[:, :, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)
    ], dim=1).reshape(b, 9 * c, h * w)


def stm_by_matmul(query: torch.Tensor, key: torch.Tensor, values,
                  scales: Sequence[int], eps: float):
    """:class:`SoftTransformer`'s F_S = F_T * A with matrix products.

    Correlation: cosines of the 3x3 patches, (B, N, 9C) x (B, 9C, N), its
    max A and argmax D over the reference positions. Transfer: output
    block p is the mean, over the offsets o whose target t = p - o is on
    the grid, of reference block D[t] + o (zero off the grid); as a
    (B, N, N) matrix T of those weights, F_T = T x blocks.

    Args:
        query (Tensor): (B, C, H, W)
        key (Tensor): (B, C, H, W)
        values (Sequence[Tensor]): one per scale s, (B, C_s, s*H, s*W)
        scales (Sequence[int]): the s of each value
        eps (float): the smallest patch norm

    Returns:
        List[Tensor]: F_S per scale, (B, C_s, s*H, s*W)
    """
    b, _, h, w = query.shape
    n = h * w
    qp, kp = _patches(query), _patches(key)  # (B, 9C, N)
    q_norm = qp.norm(dim=1).clamp_min(eps)  # (B, N)
    k_norm = kp.norm(dim=1).clamp_min(eps)
    corr = torch.bmm(qp.transpose(1, 2), kp)  # (B, N target, N reference)
    corr = corr / q_norm[:, :, None] / k_norm[:, None, :]
    conf, index = corr.max(dim=2)  # (B, N)
    ref_y, ref_x = index // w, index % w
    pos = torch.arange(n)
    out_y, out_x = pos // w, pos % w  # (N, )
    columns = torch.arange(n).view(1, 1, n)
    weights, count = 0., 0.
    for oy in (-1, 0, 1):
        for ox in (-1, 0, 1):
            t_y, t_x = out_y - oy, out_x - ox
            target_ok = (t_y >= 0) & (t_y < h) & (t_x >= 0) & (t_x < w)
            target = t_y.clamp(0, h - 1) * w + t_x.clamp(0, w - 1)  # (N, )
            src_y = ref_y[:, target] + oy  # (B, N)
            src_x = ref_x[:, target] + ox
            src_ok = target_ok & (src_y >= 0) & (src_y < h) & \
                (src_x >= 0) & (src_x < w)
            src = src_y * w + src_x
            # (B, N, N): 1 where output block p reads reference block q
            hit = (src.unsqueeze(2) == columns) & src_ok.unsqueeze(2)
            weights = weights + hit.to(query.dtype)
            count = count + target_ok.to(query.dtype)
    transfer = weights / count.view(1, n, 1)  # (B, N, N)
    soft = []
    for s, value in zip(scales, values):
        c = value.shape[1]
        # (B, C, H, s, W, s) -> (B, N, C*s*s): one row per block
        blocks = value.reshape(b, c, h, s, w, s).permute(0, 2, 4, 1, 3,
                                                         5).reshape(
                                                             b, n, c * s * s)
        moved = torch.bmm(transfer, blocks)
        # (B, H, W, C, s, s) -> (B, C, s*H, s*W)
        moved = moved.reshape(b, h, w, c, s, s).permute(0, 3, 1, 4, 2,
                                                        5).reshape(
                                                            b, c, s * h,
                                                            s * w)
        # SoftTransformer.resize_confidence: A upsampled bilinearly
        a = conf.view(b, 1, h, w)
        if s > 1:
            a = F.interpolate(a, scale_factor=s, mode='bilinear',
                              align_corners=False)
        soft.append(moved * a)
    return soft


HEAD_INPUTS = ('fg', 'query', 'key', 'value_1x', 'value_2x', 'value_4x')


def _model_digest(model: nn.Module) -> str:
    """sha1 of the state dict, the code version of the graphs and the
    torch version: the name of the exported files."""
    h = hashlib.sha1(f'v{GRAPH_VERSION} torch {torch.__version__}'.encode())
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def export_graphs(model: nn.Module, out_dir: str,
                  opset: int = 17) -> Dict[str, str]:
    """Export the ``target`` and ``head`` graphs (dynamic batch) to
    ``out_dir/{target,head}.onnx``, each written atomically."""
    import onnx
    os.makedirs(out_dir, exist_ok=True)
    head = model.head
    w_in, h_in = (int(v) for v in head.decoder.input_size)
    crops = torch.zeros(2, 3, h_in, w_in)
    target = TargetNet(model)
    with torch.no_grad():
        fg, query = target(crops)
        key, values = model.reference_pool.features(
            head, torch.zeros(2, dtype=torch.long), torch.float32,
            torch.device('cpu'))
    paths = {}
    jobs = [
        ('target', target, (crops, ), ['crops'], ['fg', 'query']),
        ('head', HeadNet(model, matmul_stm=True),
         (fg, query, key, *values), list(HEAD_INPUTS), ['heatmaps']),
    ]
    for name, net, args, in_names, out_names in jobs:
        path = osp.join(out_dir, f'{name}.onnx')
        fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.onnx',
                                   dir=out_dir)
        os.close(fd)
        try:
            # the tracer's warnings (constant folding of slices, shape
            # inference) say nothing a user can act on
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter('ignore')
                torch.onnx.export(
                    net, args, tmp, input_names=in_names,
                    output_names=out_names, opset_version=opset,
                    do_constant_folding=True,
                    dynamic_axes={n: {0: 'batch'}
                                  for n in in_names + out_names})
            onnx.checker.check_model(tmp)
            os.replace(tmp, path)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
        paths[name] = path
    return paths


def export_graphs(model: nn.Module, out_dir: str,
                  opset: int = 17) -> Dict[str, str]:
    """Export the ``target`` and ``head`` graphs (dynamic batch) to
    ``out_dir/{target,head}.onnx``, each written atomically."""
    import onnx
    os.makedirs(out_dir, exist_ok=True)
    head = model.head
    w_in, h_in = (int(v) for v in head.decoder.input_size)
    crops = torch.zeros(2, 3, h_in, w_in)
    target = TargetNet(model).eval()
    with torch.no_grad():
        fg, query = target(crops)
        key, values = model.reference_pool.features(
            head, torch.zeros(2, dtype=torch.long), torch.float32,
            torch.device('cpu'))
    paths = {}
    jobs = [
        ('target', target, (crops, ), ['crops'], ['fg', 'query']),
        ('head', HeadNet(model, matmul_stm=True).eval(),
         (fg, query, key, *values), list(HEAD_INPUTS), ['heatmaps']),
    ]
    for name, net, args, in_names, out_names in jobs:
        path = osp.join(out_dir, f'{name}.onnx')
        fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.onnx',
                                   dir=out_dir)
        os.close(fd)
        try:
            # the tracer's warnings (constant folding of slices, shape
            # inference) say nothing a user can act on
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter('ignore')
                torch.onnx.export(
                    net, args, tmp, input_names=in_names,
                    output_names=out_names, opset_version=opset,
                    do_constant_folding=True,
                    dynamic_axes={n: {0: 'batch'}
                                  for n in in_names + out_names})
            onnx.checker.check_model(tmp)
            os.replace(tmp, path)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
        paths[name] = path
    return paths


class OnnxBackend:
    """Landmarks of the faces of one image with an RHT model, batched.

    Args:
        model (nn.Module): an RHT model with a reference pool (eval, CPU)
        num_refs (int, optional): k references averaged per face; default
            the model's ``test_cfg.num_refs``
        ref_mode (str, optional): how the k are chosen, ``'descriptor'``
            or ``'stm_match'``; default the model's ``test_cfg.ref_mode``
        flip_test (bool, optional): average with the flipped crop; default
            the model's ``test_cfg.flip_test``
        hybrid (bool): ONNX Runtime for the target graph only, PyTorch for
            the head (its STM transfer is one ``embedding_bag``, faster
            than any ONNX formulation measured on this CPU); else ONNX
            Runtime for both
        num_threads (int): CPU threads of ONNX Runtime / torch
        cache_dir (str, optional): where the exported graphs are kept
            (default :data:`CACHE_DIR`: ``$RHT_MMPOSE_ONNX_CACHE``, else
            ``~/.cache/rht_mmpose/onnx``), one folder per model digest
    """

    def __init__(self,
                 model: nn.Module,
                 num_refs: Optional[int] = None,
                 ref_mode: Optional[str] = None,
                 flip_test: Optional[bool] = None,
                 hybrid: bool = True,
                 num_threads: int = 1,
                 cache_dir: Optional[str] = None):
        pool = getattr(model, 'reference_pool', None) if getattr(
            model, 'with_reference', False) else None
        if pool is None or len(pool) == 0:
            raise FaceInputError(
                f"backend 'onnx' / 'hybrid' needs an RHT model with a "
                f"reference pool, got {type(model).__name__}"
                + ('' if pool is None else ' with an empty pool')
                + "; use backend='mmpose'")
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise FaceInputError(
                f"backend 'onnx' / 'hybrid' needs onnxruntime ({e}); "
                f"install it or use backend='mmpose'") from None
        model.eval()
        test_cfg = model.test_cfg
        self.num_refs = int(test_cfg.get('num_refs', 1)
                            if num_refs is None else num_refs)
        self.ref_mode = ref_mode or test_cfg.get('ref_mode', 'descriptor')
        if self.ref_mode not in FAST_SELECTIONS:
            raise FaceInputError(
                f'ref_mode must be one of {FAST_SELECTIONS} with the onnx '
                f'backends, got {self.ref_mode!r}')
        self.flip_test = bool(test_cfg.get('flip_test', False)
                              if flip_test is None else flip_test)
        self.model, self.pool, self.codec = model, pool, model.head.decoder
        self.input_size = tuple(int(v) for v in self.codec.input_size)
        self.normalization = preprocessor_normalization(
            model.data_preprocessor)
        self.perm = None
        if self.flip_test:
            self.perm = model.head.channel_flip_indices(
                (model.dataset_meta or {})['flip_indices'])
        self.pool_features = {
            flipped: self._pool_features(flipped)
            for flipped in ((False, True) if self.flip_test else (False, ))
        }
        folder = osp.join(cache_dir or CACHE_DIR, _model_digest(model))
        paths = {n: osp.join(folder, f'{n}.onnx') for n in ('target', 'head')}
        if not all(osp.isfile(p) for p in paths.values()):
            from mmengine.logging import print_log
            print_log(f'exporting the model to ONNX once, into {folder}',
                      logger='current')
            paths = export_graphs(model, folder)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = \
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL

        def session(name):
            return ort.InferenceSession(paths[name], opts,
                                        providers=['CPUExecutionProvider'])

        self.target = session('target')
        if hybrid:
            torch_head = HeadNet(model).eval()
            self.run_head = lambda *a: torch_head(
                *map(torch.from_numpy, a)).numpy()
        else:
            head = session('head')
            self.run_head = lambda *a: head.run(
                None, dict(zip(HEAD_INPUTS, a)))[0]

    @torch.no_grad()
    def _pool_features(self, flipped: bool) -> list:
        """K and V of every pool face (of its flip), numpy, from the
        pool's own cache."""
        key, values = self.pool.features(
            self.model.head, torch.arange(len(self.pool)), torch.float32,
            torch.device('cpu'), perm=self.perm if flipped else None)
        return [key.numpy()] + [v.numpy() for v in values]

    def crops(self, img: np.ndarray, boxes: np.ndarray,
              angles: Optional[np.ndarray] = None):
        """Normalised crops (N, 3, H_in, W_in) float32 and their warps
        (N, 2, 3), image -> crop."""
        warps = crop_warps(boxes, self.input_size, angles)
        crops = torch.from_numpy(crop_faces(img, warps, self.input_size))
        crops = normalize_bgr(crops.permute(0, 3, 1, 2),
                              **self.normalization)
        return np.ascontiguousarray(crops.numpy()), warps

    @torch.no_grad()
    def heatmaps(self, crops: np.ndarray):
        """Heatmaps (N, K + P, 4H, 4W) of normalised crops, averaged over
        the k references (and fused with the flip), and the pool indices
        used (N, k)."""
        n = len(crops)
        batch = np.concatenate([crops, crops[..., ::-1]]) if self.flip_test \
            else crops  # (N or 2N, 3, H_in, W_in)
        fg, query = self.target.run(None, {
            'crops': np.ascontiguousarray(batch)})
        index = self.model.select_references(
            torch.from_numpy(query[:n]), self.ref_mode, self.num_refs,
            cached=True).numpy()  # (N, k)
        k = index.shape[1]
        # rows: reference j of face i at j * N + i; flipped rows after
        rows = [(part, j) for part in range(len(self.pool_features))
                for j in range(k)]
        targets = [np.concatenate([x[part * n:(part + 1) * n]
                                   for part, _ in rows]) for x in (fg, query)]
        refs = [np.concatenate([self.pool_features[bool(part)][m][index[:, j]]
                                for part, j in rows]) for m in range(4)]
        out = self.run_head(*targets, *refs)
        out = torch.from_numpy(out.reshape(-1, k, n, *out.shape[1:]).mean(1))
        if self.flip_test:  # (2, N, ...): plain, flipped
            return fuse_flipped(out[0], out[1], self.perm,
                                flip_shift(self.model.test_cfg)).numpy(), index
        return out[0].numpy(), index

    def __call__(self, img: np.ndarray, boxes: np.ndarray,
                 angles: Optional[np.ndarray] = None,
                 heatmaps: bool = False) -> dict:
        """Landmarks of the faces ``boxes`` (N, 4+) of a BGR uint8 image.

        Returns:
            dict: ``keypoints`` (N, K, 2) image pixels (refined),
            ``keypoint_scores`` (N, K), ``ref_index`` (N, k), ``heatmaps``
            (N, K + P, 4H, 4W) and ``warps`` (N, 2, 3) image -> crop
        """
        crops, warps = self.crops(img, boxes[:, :4], angles)
        hm, index = self.heatmaps(crops)
        decoded = [self.codec.decode(h[:self.model.head.num_keypoints])
                   for h in hm]
        kpts = warp_points(np.concatenate([kp for kp, _ in decoded]),
                           invert_warps(warps))
        return dict(
            keypoints=self.model.refine_keypoints(kpts),
            keypoint_scores=np.concatenate([sc for _, sc in decoded]).astype(
                np.float32),
            ref_index=index, heatmaps=hm, warps=warps)
