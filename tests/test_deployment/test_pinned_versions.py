"""The pinned set still holds after `make install`: facenet-pytorch is
installed with --no-deps because its metadata asks for torch<2.3, and no
other step may move torch, torchvision or numpy either."""
import os.path as osp
from importlib import metadata

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the versions the Makefile installs first and everything is built against
CORE_PINS = {'torch': '2.1.2', 'torchvision': '0.16.2', 'numpy': '1.26.4'}


def read_pins(path):
    pins = {}
    for line in open(path, encoding='utf-8'):
        line = line.split('#')[0].strip()
        if '==' in line:
            name, version = line.split('==')
            pins[name.strip().lower()] = version.strip()
    return pins


def test_constraints_file_pins_the_core_set():
    pins = read_pins(osp.join(REPO, 'constraints.txt'))
    for name, version in CORE_PINS.items():
        assert pins.get(name) == version, (name, pins.get(name))


@pytest.mark.parametrize('name', sorted(CORE_PINS))
def test_installed_core_versions(name):
    installed = metadata.version(name).split('+')[0]  # drop +cu121 tags
    assert installed == CORE_PINS[name], (
        f'{name} {installed} is installed, the pinned set needs '
        f'{CORE_PINS[name]}: a later install step moved it')


def test_every_constraint_holds():
    wrong = {}
    for name, version in read_pins(osp.join(REPO, 'constraints.txt')).items():
        try:
            installed = metadata.version(name).split('+')[0]
        except metadata.PackageNotFoundError:
            continue  # constraints only bound what gets installed
        if installed != version:
            wrong[name] = (installed, version)
    assert not wrong, f'installed vs constrained: {wrong}'


def test_facenet_pytorch_is_installed_without_moving_torch():
    try:
        version = metadata.version('facenet-pytorch')
    except metadata.PackageNotFoundError:
        pytest.skip('facenet-pytorch not installed (make install adds it)')
    assert version == '2.6.0'
    # it declares torch<2.3,>=2.2: installed with --no-deps, torch stayed
    requires = ' '.join(metadata.requires('facenet-pytorch') or [])
    assert 'torch' in requires
    assert metadata.version('torch').split('+')[0] == CORE_PINS['torch']
