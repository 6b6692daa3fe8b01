#!/usr/bin/env bash
# Prepare, on this (CPU) machine, what a device-tool run carries: .whl/
# (the cp312 wheels mmpose needs on the GPU machine, which has torch but no
# OpenMMLab packages and no network) and .gpu/300w_subset (a compact copy
# of the 1207 training faces). Both folders are git-ignored
# (.git/info/exclude). Prints the size of what will travel (limit 64 MiB).
#   bash tools/experiments/gpu/prepare_carry.sh && then: run(carry=[".whl", ".gpu"], ...)
set -eu
PY=${PY:-python3}
DATA=${DATA:-../shared/data/300w_subset}
for d in /.whl/ /.gpu/; do
  grep -qx "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude
done
mkdir -p .whl
# name==version; pure-Python unless noted. mmcv-lite: mmcv without the
# compiled ops (stubbed by tools/experiments/gpu/stubs; our models call none of them).
WHEELS="mmengine==0.10.7 mmcv-lite==2.1.0 mmpose==1.3.2 mmdet==3.3.0
json-tricks==3.17.3 munkres==3.0.0 addict==2.4.0 yapf==0.43.0
termcolor==3.3.0 platformdirs==4.14.8 tomli==2.0.1 pycocotools==2.0.11
shapely==2.2.0 terminaltables==3.1.10 setuptools==75.8.0"
for w in $WHEELS; do
  name=${w%%==*}
  if ls .whl | grep -qi "^$(echo $name | tr - _)-${w##*==}"; then continue; fi
  $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d .whl "$w"
done
if [ ! -d .gpu/300w_subset ]; then
  $PY tools/experiments/make_compact_copy.py "$DATA" .gpu/300w_subset \
    --folders afw helen/trainset --max-side 320 --quality 80
fi
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -1 | cut -f1)
carried=$(du -sb .whl .gpu | awk '{s+=$1} END {print s}')
total=$(( tracked + ${untracked:-0} + carried ))
echo "travelling tree: $(( total / 1048576 )) MiB (tracked $(( tracked / 1048576 )), .whl + .gpu $(( carried / 1048576 ))); limit 64 MiB"
[ $total -lt $(( 64 * 1048576 )) ] || { echo "over the limit: lower --max-side / --quality"; exit 1; }
