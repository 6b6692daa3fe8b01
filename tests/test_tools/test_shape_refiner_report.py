"""tools/analysis/shape_refiner_report.py fits on the training side of the
validation split and reports the validation side: never a listed face in
the fit, never a face outside the training folders."""
import numpy as np
import pytest

from tests.conftest import load_script


def _folder(root, name, stems):
    folder = root / name
    folder.mkdir(parents=True)
    for stem in stems:
        (folder / f'{stem}.pts').write_text('')
    return folder


def test_face_stems_split_sides(tmp_path):
    report = load_script('tools/analysis/shape_refiner_report.py',
                         'rht_shape_refiner_report')
    _folder(tmp_path, 'afw', ['a1', 'a2', 'a11'])
    _folder(tmp_path, 'lfpw/trainset', ['l1', 'l2'])
    _folder(tmp_path, 'helen/testset', ['t1'])  # not a training folder
    split = tmp_path / 'val.txt'
    split.write_text('afw/a1.jpg\nlfpw/trainset/l2.png\n')
    folders = ['afw', 'lfpw/trainset']
    train = report.face_stems(str(tmp_path), folders, str(split), 'train')
    val = report.face_stems(str(tmp_path), folders, str(split), 'val')
    rel = lambda stems: sorted(s[len(str(tmp_path)) + 1:] for s in stems)
    assert rel(val) == ['afw/a1', 'lfpw/trainset/l2']
    assert rel(train) == ['afw/a11', 'afw/a2', 'lfpw/trainset/l1']
    assert rel(report.face_stems(str(tmp_path), folders)) == sorted(
        rel(train) + rel(val))
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        report.face_stems(str(tmp_path), folders, str(tmp_path / 'nope.txt'))


def test_cached_predictions_belong_to_one_checkpoint_file(tmp_path):
    """A cache is used only for the same faces, the same checkpoint bytes
    and the same flip setting; a cache written before digests were kept is
    not used."""
    report = load_script('tools/analysis/shape_refiner_report.py',
                         'rht_shape_refiner_report')
    a, b = tmp_path / 'a' / 'model.pth', tmp_path / 'b' / 'model.pth'
    for path, content in ((a, b'stage 3'), (b, b'stage 4')):
        path.parent.mkdir()
        path.write_bytes(content)
    stems = ['x/1', 'x/2']
    pred, gt = np.ones((2, 68, 2)), np.zeros((2, 68, 2))
    cache = str(tmp_path / 'model.train.npz')
    digest = report.file_digest(str(a))
    np.savez(cache, pred=pred, gt=gt, stems=np.array(stems),
             digest=np.array(digest), flip=np.array(True))
    hit = report.cached_predictions(cache, stems, digest, True)
    assert hit is not None and np.array_equal(hit[0], pred)
    assert report.file_digest(str(b)) != digest
    assert report.cached_predictions(
        cache, stems, report.file_digest(str(b)), True) is None
    assert report.cached_predictions(cache, stems, digest, False) is None
    assert report.cached_predictions(cache, stems[:1], digest, True) is None
    np.savez(cache, pred=pred, gt=gt, stems=np.array(stems))  # no digest
    assert report.cached_predictions(cache, stems, digest, True) is None
