#!/usr/bin/env bash
# Training images/s of RHT-R and RHT-H on one GPU, with and without --amp
# (issue 7's GPU figure). Runs ITERS iterations of each at batch BATCH on
# the carried 300W copy and prints images/s from mmengine's iteration time
# (median of the logged `time:` values after the first log line).
#   BATCH=8 ITERS=60 bash tools/experiments/gpu/train_throughput.sh
set -u
BATCH=${BATCH:-8}
ITERS=${ITERS:-60}
OUT=${OUT:-/tmp/out}
[ -n "${SKIP_SETUP:-}" ] || source tools/experiments/gpu/setup_env.sh || exit 1
export RHT_DATA_ROOT=$PWD/.gpu PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
mkdir -p $OUT
for arch in rht_res50 rht_hrnet_w48; do
  for amp in "" "--amp"; do
    tag=${arch}${amp:+_amp}
    python3 tools/train.py configs/experiments/${arch}_300w_subset.py --work-dir work_dirs/tp_$tag \
      --no-validate $amp --cfg-options train_cfg.max_epochs=1 \
      train_dataloader.dataset.dataset.indices=$((BATCH * ITERS)) \
      train_dataloader.batch_size=$BATCH train_dataloader.num_workers=${WORKERS:-8} \
      default_hooks.logger.interval=${LOG_EVERY:-10} env_cfg.cudnn_benchmark=True \
      > $OUT/tp_$tag.txt 2>&1
    python3 - "$OUT/tp_$tag.txt" "$BATCH" "$tag" <<'PY'
import re, statistics, sys
times = [float(t) for t in re.findall(r' time: ([0-9.]+)', open(sys.argv[1]).read())][1:]
b = int(sys.argv[2])
print(sys.argv[3], f'{b / statistics.median(times):.1f} images/s' if times else 'no timing (see log)')
PY
  done
done
