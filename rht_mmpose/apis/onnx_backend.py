"""The ONNX Runtime backends of :class:`FaceLandmarker` for RHT models: the
faces of one image in one batch, the pool's key / value features computed
once, and the model's own parts for the rest (its reference selection,
shape refiner, codec; the geometry of :mod:`rht_mmpose.utils.face_geometry`).

Two graphs around the reference selection: ``target``, normalised crops
(B, 3, H_in, W_in) -> F_G (B, C_G, h, w) and the 1x query Q (B, C_1x, H, W)
of the crop at R x R (the model's own backbone and neck, whatever they
are); ``head``, F_G, Q and a reference's cached K (B, C_1x, H, W) and V
(1x, 2x, 4x) -> heatmaps (B, K + P, 4H, 4W). Flipped crops and k
references are extra row blocks of the same batches. N: faces of an
image, k: references per face, M: pool faces.
"""
import hashlib
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.utils import ReferenceFeatures
from ..utils.errors import FaceInputError
from ..utils.face_geometry import (crop_faces, crop_warps, flip_shift,
                                   fuse_flipped, invert_warps,
                                   normalize_bgr, pipeline_box_padding,
                                   preprocessor_normalization, warp_points)
from ..utils.io import atomic_output

CACHE_DIR = os.environ.get('RHT_MMPOSE_ONNX_CACHE', osp.join(
    os.environ.get('XDG_CACHE_HOME', osp.expanduser('~/.cache')),
    'rht_mmpose', 'onnx'))
# bump when the exported graphs change, so stale cached files are not used
GRAPH_VERSION = 2
# reference selections of these backends (the model's 'fixed' / 'random'
# are for experiments, through the mmpose backend)
FAST_SELECTIONS = ('descriptor', 'stm_match')


class TargetNet(nn.Module):
    """Crops (B, 3, H_in, W_in) -> F_G (B, C_G, h, w), Q (B, C_1x, H, W)
    and the neck's lateral features, if any (coarse to fine)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, crops: torch.Tensor):
        *laterals, fg = self.model.extract_feat(crops)
        r = self.model.head.ref_size
        small = F.interpolate(crops, size=(r, r), mode='area')
        return (fg, self.model.head.extract_query(small), *laterals)


class HeadNet(nn.Module):
    """F_G, Q, a reference's K and V (1x, 2x, 4x) and the lateral features
    -> heatmaps (B, K + P, 4H, 4W): :meth:`RHTHead.fuse_reference` on
    features from the pool cache."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.head = model.head

    def forward(self, fg, query, key, value_1x, value_2x, value_4x,
                *laterals):
        return self.head.fuse_reference(
            fg, query,
            ReferenceFeatures(key, [value_1x, value_2x, value_4x]),
            laterals)[0]


HEAD_INPUTS = ('fg', 'query', 'key', 'value_1x', 'value_2x', 'value_4x')


def lateral_names(model: nn.Module) -> List[str]:
    """Graph names of the neck's lateral features (none for most models)."""
    count = len(getattr(model.head.neck, 'lateral_channels', ()))
    return [f'lateral_{i}' for i in range(count)]


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
    head = model.head
    w_in, h_in = (int(v) for v in head.decoder.input_size)
    crops = torch.zeros(2, 3, h_in, w_in)
    target = TargetNet(model).eval()
    with torch.no_grad():
        fg, query, *laterals = target(crops)
        key, values = model.reference_pool.features(
            torch.zeros(2, dtype=torch.long), torch.float32,
            torch.device('cpu'))
    paths = {}
    jobs = [
        ('target', target, (crops, ), ['crops'],
         ['fg', 'query', *lateral_names(model)]),
        ('head', HeadNet(model).eval(), (fg, query, key, *values, *laterals),
         [*HEAD_INPUTS, *lateral_names(model)], ['heatmaps']),
    ]
    for name, net, args, in_names, out_names in jobs:
        paths[name] = osp.join(out_dir, f'{name}.onnx')
        # the tracer's warnings (constant folding of slices, shape
        # inference) say nothing a user can act on
        with atomic_output(paths[name]) as tmp, torch.no_grad(), \
                warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(
                net, args, tmp, input_names=in_names,
                output_names=out_names, opset_version=opset,
                do_constant_folding=True,
                dynamic_axes={n: {0: 'batch'}
                              for n in in_names + out_names})
            onnx.checker.check_model(tmp)
    return paths


class OnnxBackend:
    """Landmarks of the faces of one image with an RHT model, batched.

    Args:
        model (nn.Module): an RHT model with a reference pool (CPU)
        num_refs, ref_mode, flip_test (optional): k references averaged
            per face, chosen by ``'descriptor'`` or ``'stm_match'``, flip
            test (default: the model's ``test_cfg``)
        hybrid (bool): ONNX Runtime for the target graph only, PyTorch for
            the head (its STM transfer is one ``embedding_bag``, faster on
            this CPU than its ONNX gathers); else ONNX Runtime for both
        num_threads (int): CPU threads of ONNX Runtime
        cache_dir (str, optional): where the exported graphs are kept, a
            folder per model digest (default :data:`CACHE_DIR`)
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
        self.box_padding = pipeline_box_padding(getattr(model, 'cfg', None))
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
        # ONNX Runtime's idle threads spin by default, taking the cores
        # from PyTorch's threads between graph runs (the hybrid head, the
        # reference choice): one face's landmark step took 83 ms with
        # spinning, 45 ms at one thread
        opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
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
            names = [*HEAD_INPUTS, *lateral_names(model)]
            self.run_head = lambda *a: head.run(None, dict(zip(names, a)))[0]

    @torch.no_grad()
    def _pool_features(self, flipped: bool) -> list:
        """K and V of every pool face (of its flip), numpy, from the
        pool's own cache."""
        key, values = self.pool.features(
            torch.arange(len(self.pool)), torch.float32,
            torch.device('cpu'), perm=self.perm if flipped else None)
        return [key.numpy()] + [v.numpy() for v in values]

    def crops(self, img: np.ndarray, boxes: np.ndarray,
              angles: Optional[np.ndarray] = None):
        """Normalised crops (N, 3, H_in, W_in) float32 and their warps
        (N, 2, 3), image -> crop."""
        warps = crop_warps(boxes, self.input_size, angles, self.box_padding)
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
        fg, query, *laterals = self.target.run(None, {
            'crops': np.ascontiguousarray(batch)})
        index = self.model.select_references(
            torch.from_numpy(query[:n]), self.ref_mode, self.num_refs,
            cached=True).numpy()  # (N, k)
        k = index.shape[1]
        # rows: reference j of face i at j * N + i; flipped rows after
        rows = [(part, j) for part in range(len(self.pool_features))
                for j in range(k)]
        fg, query, *laterals = [
            np.concatenate([x[part * n:(part + 1) * n] for part, _ in rows])
            for x in (fg, query, *laterals)]
        refs = [np.concatenate([self.pool_features[bool(part)][m][index[:, j]]
                                for part, j in rows]) for m in range(4)]
        out = self.run_head(fg, query, *refs, *laterals)
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
