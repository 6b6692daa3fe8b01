"""The fast CPU path of an RHT face model: the faces of one image in one
batch, the pool's key / value features computed once, ONNX Runtime (or
PyTorch) for the network, the codec's decoding and the model's shape
refiner.

The network is split in two graphs around the reference selection (a
top-k over the pool descriptors in numpy, or over STM's match scores with
the model's own :meth:`ReferencePool.match_scores`):

- ``target``: normalised crops (B, 3, H_in, W_in) -> F_G (B, C_G, h, w) and
  the 1x query Q (B, C_1x, H, W) of the crop downsampled to R x R;
- ``head``: F_G, Q and a reference's cached key K (B, C_1x, H, W) and
  values V (1x, 2x, 4x) -> heatmaps (B, K + P, 4H, 4W) (STM, HTM, MSFFM).

With the flip test the flipped crops are extra rows of the same batches and
the flipped pool features are cached too, as :class:`RHTPoseEstimator`
does; k references are k row blocks of one head batch. The crop may be
rotated (``angles``), the landmarks are mapped back through the inverse of
the same affine warp.

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
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import FaceInputError

CACHE_DIR = os.environ.get('RHT_MMPOSE_ONNX_CACHE', osp.join(
    os.environ.get('XDG_CACHE_HOME', osp.expanduser('~/.cache')),
    'rht_mmpose', 'onnx'))
# bump when the exported graphs change, so stale cached files are not used
GRAPH_VERSION = 1
BOX_PADDING = 1.25  # GetBBoxCenterScale(padding=1.25) of the test pipeline
BACKENDS = ('hybrid', 'onnx', 'torch')
# reference selections of the fast path (the model's 'fixed' / 'random' are
# for experiments, through its own path)
FAST_SELECTIONS = ('descriptor', 'stm_match')


# ------------------------------------------------ the model's extra parts
def model_refiner_and_pool(model: nn.Module):
    """The shape refiner and the reference pool of a loaded model.

    The one place that knows where a model keeps them: today
    ``model.shape_refiner`` (a :class:`LinearShapeRefiner` with
    ``refine``; a dict of numpy arrays in older bundles) and
    ``model.reference_pool`` (a :class:`ReferencePool`); a refiner moved
    under the head (``model.head.shape_refiner``) is found too.

    Returns:
        tuple: ``refine`` (callable (N, K, 2) -> (N, K, 2) in image pixels,
        the identity without a fitted refiner) and the pool (None for a
        model without references).
    """
    refiner = getattr(model, 'shape_refiner', None)
    if refiner is None:
        refiner = getattr(getattr(model, 'head', None), 'shape_refiner', None)
    if refiner is None or not model.test_cfg.get('refine_shape', True):
        refine = _identity
    elif isinstance(refiner, dict):
        from rht_mmpose.models.utils.shape_refiner import (
            apply_shape_refiner, has_frame)

        def refine(kpts):
            out = kpts.copy()
            ok = has_frame(kpts, refiner['anchors'])
            if ok.any():
                out[ok] = apply_shape_refiner(kpts[ok], refiner).astype(
                    kpts.dtype)
            return out
    else:
        refine = refiner.refine
    pool = getattr(model, 'reference_pool', None) if getattr(
        model, 'with_reference', False) else None
    return refine, pool


def _identity(kpts):
    return kpts


# ------------------------------------------------------------- cropping
def crop_warps(boxes: np.ndarray, angles: Optional[np.ndarray],
               input_size: Tuple[int, int],
               padding: float = BOX_PADDING) -> np.ndarray:
    """Affine warps (N, 2, 3) from image to crop, as the test pipeline's
    ``GetBBoxCenterScale`` + ``TopdownAffine`` make them, plus a rotation.

    Args:
        boxes (np.ndarray): (N, 4) landmark-style xyxy boxes
        angles (np.ndarray, optional): (N,) degrees; a face tilted by
            ``a`` (its eye line turned ``a`` degrees counter-clockwise in
            the image) is made upright in the crop
        input_size (tuple): (W, H) of the crop
        padding (float): box padding
    """
    from mmpose.structures.bbox import bbox_xyxy2cs, get_warp_matrix
    w, h = input_size
    center, scale = bbox_xyxy2cs(np.asarray(boxes, np.float32)[:, :4],
                                 padding=padding)
    aspect = w / h
    warps = []
    for i in range(len(center)):
        bw, bh = scale[i]
        # TopdownAffine._fix_aspect_ratio
        s = np.array([bw, bw / aspect] if bw > bh * aspect else
                     [bh * aspect, bh], np.float32)
        # mmpose's rot turns the crop the other way round: a face whose
        # eye line is turned a degrees counter-clockwise needs rot = -a
        rot = 0. if angles is None else -float(angles[i])
        warps.append(get_warp_matrix(center[i], s, rot, output_size=(w, h)))
    return np.stack(warps).astype(np.float64) if warps else np.zeros(
        (0, 2, 3))


def invert_warps(warps: np.ndarray) -> np.ndarray:
    """(N, 2, 3) image -> crop warps to (N, 2, 3) crop -> image warps."""
    return np.stack([cv2.invertAffineTransform(m) for m in warps]) \
        if len(warps) else warps


# ----------------------------------------------------------- the graphs
def _evaluation_wrapper(net: nn.Module) -> None:
    """Mark a wrapper of the (eval-mode) model as in eval mode without
    ``net.eval()``, which would reach :meth:`RHTPoseEstimator.train` and
    drop the pool's feature cache. A wrapper left in training mode (the
    default of a new module) is put back into it after
    ``torch.onnx.export``, with the wrapped model: batch statistics and
    random references from then on."""
    net.training = False


class TargetNet(nn.Module):
    """Crops (B, 3, H_in, W_in) -> F_G (B, C_G, h, w), Q (B, C_1x, H, W)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        _evaluation_wrapper(self)

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
        _evaluation_wrapper(self)

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


class _TorchBackend:
    def __init__(self, model):
        self.target = TargetNet(model)
        self.head = HeadNet(model)

    @torch.no_grad()
    def run_target(self, crops: np.ndarray):
        fg, query = self.target(torch.from_numpy(crops))
        return fg.numpy(), query.numpy()

    @torch.no_grad()
    def run_head(self, *arrays: np.ndarray) -> np.ndarray:
        return self.head(*[torch.from_numpy(a) for a in arrays]).numpy()


class _OnnxBackend:
    def __init__(self, paths: Dict[str, str], num_threads: int):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = \
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.target = ort.InferenceSession(
            paths['target'], opts, providers=['CPUExecutionProvider'])
        self.head = ort.InferenceSession(
            paths['head'], opts, providers=['CPUExecutionProvider'])

    def run_target(self, crops: np.ndarray):
        fg, query = self.target.run(None, {'crops': crops})
        return fg, query

    def run_head(self, *arrays: np.ndarray) -> np.ndarray:
        return self.head.run(None, dict(zip(HEAD_INPUTS, arrays)))[0]


class _HybridBackend(_OnnxBackend):
    """ONNX Runtime for the target graph (convolutions: faster there),
    PyTorch for the head (its STM transfer is one ``embedding_bag``,
    faster than any ONNX formulation measured on this CPU)."""

    def __init__(self, paths: Dict[str, str], num_threads: int, model):
        super().__init__(paths, num_threads)
        self.torch_head = HeadNet(model)

    @torch.no_grad()
    def run_head(self, *arrays: np.ndarray) -> np.ndarray:
        return self.torch_head(*[torch.from_numpy(a)
                                 for a in arrays]).numpy()


# -------------------------------------------------------------- runner
class FastRHTRunner:
    """Landmarks of the faces of one image with an RHT model, batched.

    Args:
        model (nn.Module): an RHT model from :func:`init_face_model` (eval,
            CPU) with a reference pool
        num_refs (int): k references averaged per face; default the
            model's ``test_cfg.num_refs``
        ref_mode (str): how the k are chosen, ``'descriptor'`` or
            ``'stm_match'`` (:mod:`rht_mmpose.models.utils.reference_selection`);
            default the model's ``test_cfg.ref_mode``
        flip_test (bool): average with the flipped crop; default the
            model's ``test_cfg.flip_test``
        backend (str): ``'hybrid'`` (ONNX Runtime for the target graph,
            PyTorch for the head: the fastest here), ``'onnx'`` (ONNX
            Runtime for both; the graphs are exported once per model into
            ``cache_dir``) or ``'torch'``
        num_threads (int): CPU threads of ONNX Runtime / torch
        cache_dir (str, optional): where the exported graphs are kept
            (default :data:`CACHE_DIR`: ``$RHT_MMPOSE_ONNX_CACHE``, else
            ``~/.cache/rht_mmpose/onnx``)
    """

    def __init__(self,
                 model: nn.Module,
                 num_refs: Optional[int] = None,
                 flip_test: Optional[bool] = None,
                 backend: str = 'hybrid',
                 num_threads: Optional[int] = None,
                 cache_dir: Optional[str] = None,
                 ref_mode: Optional[str] = None):
        refine, pool = model_refiner_and_pool(model)
        if pool is None or len(pool) == 0:
            raise FaceInputError(
                f'the fast path needs an RHT model with a reference pool, '
                f'got {type(model).__name__}'
                + ('' if pool is None else ' with an empty pool'))
        if backend not in BACKENDS:
            raise FaceInputError(f'backend must be one of {BACKENDS}, got '
                                 f'{backend!r}')
        # the wrappers below run the model as it is: no .eval() on them,
        # which would reach RHTPoseEstimator.train and drop the model's own
        # pool feature cache
        if model.training:
            model.eval()
        test_cfg = model.test_cfg
        self.num_refs = int(num_refs if num_refs is not None else
                            test_cfg.get('num_refs', 1))
        if not 1 <= self.num_refs:
            raise FaceInputError(f'num_refs must be >= 1, got {num_refs}')
        self.num_refs = min(self.num_refs, len(pool))
        self.ref_mode = ref_mode or test_cfg.get('ref_mode', 'descriptor')
        if self.ref_mode not in FAST_SELECTIONS:
            raise FaceInputError(
                f'ref_mode must be one of {FAST_SELECTIONS} on the fast '
                f'path, got {self.ref_mode!r}')
        self.flip_test = bool(test_cfg.get('flip_test', False)
                              if flip_test is None else flip_test)
        shift = test_cfg.get('shift_heatmap', False)
        self.flip_shift = 1.0 if shift is True else float(shift or 0.)
        self.num_threads = int(num_threads or max(1, min(
            2, os.cpu_count() or 1)))
        self.model = model
        self.pool = pool
        self.refine = refine
        self.codec = model.head.decoder
        self.num_keypoints = model.head.num_keypoints
        self.input_size = tuple(int(v) for v in self.codec.input_size)
        pre = model.data_preprocessor
        self.mean = pre.mean.flatten().numpy().astype(np.float32)
        self.std = pre.std.flatten().numpy().astype(np.float32)
        self.bgr_to_rgb = bool(getattr(pre, '_channel_conversion', False))
        flip_indices = (model.dataset_meta or {}).get('flip_indices')
        self.perm = None
        if self.flip_test:
            if flip_indices is None:
                raise FaceInputError('flip test needs flip_indices in the '
                                     "model's dataset_meta")
            self.perm = model.head.channel_flip_indices(flip_indices)
        self._load_pool(pool)
        torch.set_num_threads(self.num_threads)
        if backend in ('onnx', 'hybrid'):
            folder = osp.join(cache_dir or CACHE_DIR, _model_digest(model))
            paths = {n: osp.join(folder, f'{n}.onnx')
                     for n in ('target', 'head')}
            if not all(osp.isfile(p) for p in paths.values()):
                from mmengine.logging import print_log
                print_log(f'exporting the model to ONNX once, into {folder}',
                          logger='current')
                paths = export_graphs(model, folder)
            self.backend = _OnnxBackend(paths, self.num_threads) \
                if backend == 'onnx' else _HybridBackend(
                    paths, self.num_threads, model)
        else:
            self.backend = _TorchBackend(model)
        self.backend_name = backend

    @torch.no_grad()
    def _load_pool(self, pool) -> None:
        """Descriptors (M, D) and K / V of every pool face, once (and of
        its flip with the flip test), as numpy arrays."""
        head = self.model.head
        index = torch.arange(len(pool))
        self.descriptors = pool.descriptors.float().numpy()
        feats = {}
        for flipped in ((False, True) if self.flip_test else (False, )):
            key, values = pool.features(
                head, index, torch.float32, torch.device('cpu'),
                perm=self.perm if flipped else None)
            feats[flipped] = [key.numpy()] + [v.numpy() for v in values]
        self.pool_features = feats

    # ----------------------------------------------------------- steps
    def crops(self, img: np.ndarray, boxes: np.ndarray,
              angles: Optional[np.ndarray] = None):
        """Normalised crops (N, 3, H_in, W_in) float32 and their warps
        (N, 2, 3), image -> crop."""
        warps = crop_warps(boxes, angles, self.input_size)
        w, h = self.input_size
        crops = np.stack([
            cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR)
            for m in warps
        ]).astype(np.float32)  # (N, H, W, 3) BGR
        if self.bgr_to_rgb:
            crops = crops[..., ::-1]
        crops = (crops - self.mean) / self.std
        return np.ascontiguousarray(crops.transpose(0, 3, 1, 2)), warps

    def select(self, query: np.ndarray) -> np.ndarray:
        """(N, k) pool indices of the best references for the 1x query
        features (N, C_1x, H, W), as :meth:`ReferencePool.select` chooses
        them with :attr:`ref_mode`."""
        if self.ref_mode == 'stm_match':
            with torch.no_grad():
                sim = self.pool.match_scores(
                    self.model.head, torch.from_numpy(query),
                    cached=True).numpy()  # (N, M)
        else:
            desc = query.mean(axis=(2, 3))  # (N, C_1x)
            desc /= np.maximum(
                np.linalg.norm(desc, axis=1, keepdims=True), 1e-12)
            sim = desc @ self.descriptors.T  # (N, M)
        # stable descending order, ties as torch.topk on CPU gives them
        return np.argsort(-sim, axis=1, kind='stable')[:, :self.num_refs]

    def heatmaps(self, crops: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Averaged heatmaps (N, K + P, 4H, 4W) of normalised crops, and
        the pool indices used (N, k)."""
        n, k = len(crops), self.num_refs
        batch = np.concatenate([crops, crops[..., ::-1]]) if self.flip_test \
            else crops  # (N or 2N, 3, H_in, W_in)
        fg, query = self.backend.run_target(np.ascontiguousarray(batch))
        index = self.select(query[:n])  # (N, k)
        # rows: reference j of face i at j * N + i; flipped rows after
        rows_fg, rows_q, rows_ref = [], [], []
        for flipped in ((False, True) if self.flip_test else (False, )):
            part = slice(n, 2 * n) if flipped else slice(0, n)
            for j in range(k):
                rows_fg.append(fg[part])
                rows_q.append(query[part])
                rows_ref.append([f[index[:, j]]
                                 for f in self.pool_features[flipped]])
        refs = [np.concatenate([r[m] for r in rows_ref]) for m in range(4)]
        out = self.backend.run_head(
            np.concatenate(rows_fg), np.concatenate(rows_q), *refs)
        c, hh, ww = out.shape[1:]
        out = out.reshape(-1, k, n, c, hh, ww).mean(axis=1)  # (1|2, N, ...)
        hm = out[0]
        if self.flip_test:
            from rht_mmpose.models.heads.rht_head import shift_heatmaps_right
            back = out[1][:, self.perm, :, ::-1]  # un-flip and swap sides
            back = torch.from_numpy(np.ascontiguousarray(back))
            if self.flip_shift:
                back = shift_heatmaps_right(back, self.flip_shift)
            hm = (hm + back.numpy()) * 0.5
        return hm, index

    def decode(self, heatmaps: np.ndarray, warps: np.ndarray):
        """Keypoints (N, K, 2) in image pixels (refined) and scores (N, K)
        from heatmaps (N, K + P, 4H, 4W) and the crops' warps."""
        kpts, scores = [], []
        for hm in heatmaps:
            kp, sc = self.codec.decode(hm[:self.num_keypoints])
            kpts.append(kp[0])
            scores.append(sc[0])
        kpts = np.stack(kpts).astype(np.float32)  # (N, K, 2) crop pixels
        inv = invert_warps(warps)
        kpts = (np.einsum('nij,nkj->nki', inv[:, :, :2], kpts)
                + inv[:, None, :, 2]).astype(np.float32)
        return self.refine(kpts), np.stack(scores).astype(np.float32)

    def __call__(self, img: np.ndarray, boxes: np.ndarray,
                 angles: Optional[np.ndarray] = None) -> dict:
        """Landmarks of the faces ``boxes`` (N, 4+) of a BGR uint8 image.

        Returns:
            dict: ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K),
            ``ref_index`` (N, k)
        """
        boxes = np.asarray(boxes, np.float32).reshape(-1, boxes.shape[-1]
                                                      if np.ndim(boxes) else 4)
        if len(boxes) == 0:
            k = self.num_keypoints
            return dict(keypoints=np.zeros((0, k, 2), np.float32),
                        keypoint_scores=np.zeros((0, k), np.float32),
                        ref_index=np.zeros((0, self.num_refs), np.int64))
        crops, warps = self.crops(img, boxes[:, :4], angles)
        hm, index = self.heatmaps(crops)
        kpts, scores = self.decode(hm, warps)
        return dict(keypoints=kpts, keypoint_scores=scores, ref_index=index)
