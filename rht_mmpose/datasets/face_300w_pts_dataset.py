"""300W read straight from folders of ``.pts`` files."""
import hashlib
import os
import os.path as osp
from typing import Optional, Sequence

from mmpose.datasets import Face300WDataset
from mmpose.registry import DATASETS

from ..utils.io import PTS_CONVERSION
from .annotation_checks import check_annotations
from .pts_to_coco import convert, list_pts

DEFAULT_CACHE_DIR = osp.join('work_dirs', 'rht_cache')
SPLITS = ('train', 'val')


def read_split_file(path: str) -> list:
    """Image paths (relative to the data root, '/'-separated) of a split
    file; blank lines and ``#`` comments skipped."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file {path!r} does not exist')
    with open(path) as f:
        lines = [ln.split('#', 1)[0].strip() for ln in f]
    return [ln for ln in lines if ln]


def read_split_stems(path: str) -> set:
    """The faces of a split file as ``folder/stem`` (image extension
    dropped), the key the tools match .pts files by."""
    return {osp.splitext(p)[0] for p in read_split_file(path)}


def pts_json_path(data_root: str, pts_folders: Sequence[str],
                  cache_dir: str) -> str:
    """Cache path of the converted json, keyed by the folders' content.

    The key hashes the folder names, every ``.pts`` file's name, size
    and modification time and the 0-based conversion's offsets, so an
    edited annotation or conversion gives a new json.
    """
    h = hashlib.sha1(f'pts_to_coco-v2|{PTS_CONVERSION}'.encode())
    h.update(osp.abspath(data_root).encode())
    for path in list_pts(pts_folders, data_root):
        st = os.stat(path)
        h.update(f'{osp.relpath(path, data_root)}|{st.st_size}|'
                 f'{st.st_mtime_ns}\n'.encode())
    name = '_'.join(f.strip('/').replace('/', '-') for f in pts_folders)
    return osp.join(cache_dir, f'300w_{name}_{h.hexdigest()[:12]}.json')


@DATASETS.register_module()
class Face300WPtsDataset(Face300WDataset):
    """:class:`mmpose.datasets.Face300WDataset` built from ``.pts`` folders.

    What differs: instead of ``ann_file`` it takes ``pts_folders`` under
    ``data_root``; on first use it converts them (with
    :func:`rht_mmpose.datasets.pts_to_coco.convert`) into a json cached in
    ``cache_dir`` (written atomically; the name carries a hash of the
    folders' content) and loads that. Images are read from ``data_root``,
    which may be read-only. Metainfo: MMPose's 300W (68 points). Every
    loaded face is checked (68 finite points, non-empty box; an
    :class:`AnnotationError` names the annotation id), which also catches
    a stale or hand-edited json in ``cache_dir``.

    Every face's data info also says which part of 300-W it comes from:
    ``subset`` is the first component of its folder (``'afw'``,
    ``'helen'``, ``'lfpw'``), so :class:`FaceNMEMetric` with
    ``subset_tags=['helen', 'lfpw']`` reports each part of a combined test
    set (pack it with ``PackPoseInputs(meta_keys=(..., 'subset'))``).

    A validation split carved from training faces is a text file of image
    paths relative to ``data_root``, one per line (``#`` starts a comment;
    ``tools/dataset_converters/make_val_split.py`` writes one):
    ``split='train'`` drops the faces it lists, ``split='val'`` keeps only
    them, so the two sides never share a face.

    Args:
        data_root (str): Folder holding ``pts_folders``.
        pts_folders (Sequence[str]): e.g. ``['afw', 'helen/trainset']``.
        cache_dir (str, optional): Where the json goes. Defaults to
            ``work_dirs/rht_cache`` (relative to the working directory).
        split_file (str, optional): the validation faces (see above).
        split (str): ``'train'`` or ``'val'`` side of ``split_file``.
        **kwargs: The other arguments of ``Face300WDataset`` (not
            ``ann_file`` / ``data_prefix``).
    """

    def __init__(self,
                 data_root: str,
                 pts_folders: Sequence[str],
                 cache_dir: Optional[str] = None,
                 split_file: Optional[str] = None,
                 split: str = 'train',
                 **kwargs) -> None:
        for key in ('ann_file', 'data_prefix'):
            if key in kwargs:
                raise ValueError(f'{self.__class__.__name__} sets {key} '
                                 f'itself; got {key}={kwargs[key]!r}')
        if split not in SPLITS:
            raise ValueError(f'split {split!r}, expected one of {SPLITS}')
        self.split_file = split_file
        self.split = split
        self.pts_folders = ([pts_folders] if isinstance(pts_folders, str)
                            else list(pts_folders))
        self.cache_dir = cache_dir or DEFAULT_CACHE_DIR
        ann_file = osp.abspath(
            pts_json_path(data_root, self.pts_folders, self.cache_dir))
        if not osp.isfile(ann_file):
            # every rank may convert: the write is atomic and identical
            convert(self.pts_folders, ann_file, data_root, progress=False)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(img=''),
            **kwargs)

    def load_data_list(self) -> list:
        """MMPose's list, each face with its ``subset``, restricted to one
        side of ``split_file``."""
        data_list = super().load_data_list()
        root = osp.abspath(self.data_root)
        listed = None
        if self.split_file is not None:
            # the listed faces inside this dataset's folders (one split
            # file may serve several folder sets)
            folders = [f.strip('/') + '/' for f in self.pts_folders]
            listed = {p for p in read_split_file(self.split_file)
                      if any(p.startswith(f) for f in folders)}
        kept = []
        for info in data_list:
            rel = osp.relpath(osp.abspath(info['img_path']),
                              root).replace(os.sep, '/')
            info['subset'] = rel.split('/')[0]
            if listed is None or (rel in listed) == (self.split == 'val'):
                kept.append(info)
        if listed is not None:
            found = len(data_list) - len(kept) if self.split == 'train' \
                else len(kept)
            if found != len(listed):
                raise ValueError(
                    f'split file {self.split_file!r} lists {len(listed)} '
                    f'faces in {self.pts_folders}, {found} of them are '
                    f'there under {self.data_root!r}: every listed face '
                    f'must be')
        return kept

    def full_init(self) -> None:
        """Load the json, then check every annotation."""
        if self._fully_initialized:
            return
        super().full_init()
        check_annotations(self)
