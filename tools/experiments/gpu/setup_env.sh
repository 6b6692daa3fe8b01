#!/usr/bin/env bash
# Source on the GPU machine (Python 3.12, torch preinstalled, no network):
# installs the carried wheels (.whl/) into /tmp/site and the stubs for the
# compiled parts that have no cp312 wheel (mmcv._ext, xtcocotools).
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl
cp tools/experiments/gpu/stubs/mmcv_ext/_ext.py /tmp/site/mmcv/_ext.py
cp -r tools/experiments/gpu/stubs/xtcocotools /tmp/site/
export PYTHONPATH=/tmp/site:$PWD
python3 -c "import rht_mmpose, torch; print('env ok, torch', torch.__version__, 'cuda', torch.cuda.is_available())"
