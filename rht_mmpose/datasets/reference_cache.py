"""Rendered references of a pool, kept in memory-mapped files.

The default reference pipeline (load, box crop to 128x128, encode) has no
randomness, so a pool face always gives the same reference image and
heatmaps. Rendering them costs about half of a training sample's CPU time
(the heatmap encoding of 68 + 13 channels at 128x128), every time a face is
drawn as a reference. :class:`ReferenceCache` renders each pool face once
into ``.npy`` files that every dataloader worker (and every run on the same
machine) maps read-only, so the operating system keeps one copy in memory.
"""
import hashlib
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Optional, Tuple

import numpy as np
from mmengine.dist import barrier, get_dist_info
from mmengine.utils import track_iter_progress

CACHE_VERSION = 1
FILES = ('images.npy', 'heatmaps.npy', 'filled.npy')


class ReferenceCache:
    """Reference images and heatmaps of ``num_faces`` pool faces.

    Layout of the folder (all written to a temporary folder first, then
    renamed into place, so a folder that exists is complete):

    - ``images.npy``: (N, h, w, 3) uint8, the reference crops (BGR)
    - ``heatmaps.npy``: (N, C, H, W) float32, their K + P heatmaps
    - ``filled.npy``: (N, ) uint8, 1 where the face was rendered (0 for a
      face whose image could not be read: the caller renders it, and
      reports it, as without the cache)

    Only rank 0 renders; other ranks wait at a barrier and then map the
    files. The files are opened lazily in each process (after the
    dataloader workers start).

    Args:
        folder (str): the cache folder of this pool and reference codec
    """

    def __init__(self, folder: str):
        self.folder = folder
        self._arrays = None

    @staticmethod
    def key(content_key: str, ref_settings: str) -> str:
        """Folder name for a pool (its content hash) and the reference
        pipeline settings (codec, input size)."""
        h = hashlib.sha1(
            f'{CACHE_VERSION}|{content_key}|{ref_settings}'.encode())
        return 'refcache_' + h.hexdigest()[:16]

    @classmethod
    def build_or_open(cls,
                      cache_dir: str,
                      name: str,
                      num_faces: int,
                      render: Callable[[int], Optional[Tuple[np.ndarray,
                                                             np.ndarray]]],
                      progress: bool = True) -> 'ReferenceCache':
        """Open ``cache_dir/name``, rendering it first (rank 0) if missing.

        Args:
            cache_dir (str): parent folder
            name (str): the cache folder's name (:meth:`key`)
            num_faces (int): N
            render (callable): ``render(i)`` -> (image (h, w, 3) uint8,
                heatmaps (C, H, W) float32), or None when face ``i`` cannot
                be rendered
            progress (bool): show a progress bar on rank 0
        """
        folder = osp.join(cache_dir, name)
        rank, world = get_dist_info()
        if rank == 0 and not osp.isdir(folder):
            cls._build(cache_dir, folder, num_faces, render, progress)
        if world > 1:
            barrier()
        filled = np.load(osp.join(folder, 'filled.npy'), mmap_mode='r')
        if filled.shape != (num_faces, ):
            raise ValueError(
                f'reference cache {folder} holds {filled.shape[0]} faces, '
                f'expected {num_faces}; delete the folder to rebuild it')
        return cls(folder)

    @staticmethod
    def _build(cache_dir, folder, num_faces, render, progress) -> None:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=osp.basename(folder) + '.tmp',
                               dir=cache_dir)
        try:
            images = heatmaps = None
            filled = np.lib.format.open_memmap(
                osp.join(tmp, 'filled.npy'), 'w+', np.uint8, (num_faces, ))
            faces = range(num_faces)
            if progress:
                print(f'rendering {num_faces} references into {folder}',
                      flush=True)
                faces = track_iter_progress(faces)
            for i in faces:
                out = render(i)
                if out is not None:
                    img, hm = out
                    if images is None:  # shapes from the first face
                        images = np.lib.format.open_memmap(
                            osp.join(tmp, 'images.npy'), 'w+', np.uint8,
                            (num_faces, ) + img.shape)
                        heatmaps = np.lib.format.open_memmap(
                            osp.join(tmp, 'heatmaps.npy'), 'w+', np.float32,
                            (num_faces, ) + hm.shape)
                    images[i] = img
                    heatmaps[i] = hm
                    filled[i] = 1
            if images is None:
                raise ValueError(f'no pool face of {folder} could be '
                                 'rendered as a reference')
            for arr in (images, heatmaps, filled):
                arr.flush()
            del images, heatmaps, filled
            for f in FILES:
                os.chmod(osp.join(tmp, f), 0o644)
            os.chmod(tmp, 0o755)
            try:
                os.rename(tmp, folder)  # atomic; fails if folder exists
            except OSError:
                if not osp.isdir(folder):
                    raise
        finally:
            if osp.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    def get(self, index: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """(image (h, w, 3) uint8, heatmaps (C, H, W) float32) copies, or
        None if face ``index`` was not rendered."""
        if self._arrays is None:
            self._arrays = tuple(
                np.load(osp.join(self.folder, f), mmap_mode='r')
                for f in FILES)
        images, heatmaps, filled = self._arrays
        if not filled[index]:
            return None
        return np.array(images[index]), np.array(heatmaps[index])

    def __getstate__(self):
        # workers map the files themselves
        return dict(folder=self.folder, _arrays=None)
