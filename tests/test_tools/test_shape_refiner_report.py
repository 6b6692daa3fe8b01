"""tools/analysis/shape_refiner_report.py fits on the training side of the
validation split and reports the validation side: never a listed face in
the fit, never a face outside the training folders."""
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
