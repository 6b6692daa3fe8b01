#!/usr/bin/env bash
# Train RHT-R and its identical-budget Trans-R baseline side by side on one
# GPU machine (the device tool), on the compact copy of the 300W training
# faces carried in .gpu/300w_subset. Both arms get the same epochs, seed,
# data and augmentation. The epoch count is fitted to BUDGET_S seconds from
# a timed first epoch of both arms together.
#   BUDGET_S=420 bash tools/gpu/train_pair_300w.sh
set -u
BUDGET_S=${BUDGET_S:-420}
OUT=${OUT:-/tmp/out}
ARMS=${ARMS:-"rht_res50_300w_subset trans_res50_300w_subset"}
EXTRA=${EXTRA:-}
source tools/gpu/setup_env.sh || exit 1
export RHT_DATA_ROOT=$PWD/.gpu PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
COMMON="train_dataloader.num_workers=7 train_dataloader.batch_size=16 randomness.seed=0 $EXTRA"

run_arms() {  # $1 = epochs, $2 = tag
  local pids=""
  for arm in $ARMS; do
    python3 tools/train.py configs/$arm.py --work-dir work_dirs/gpu_$2_$arm \
      --no-validate --cfg-options train_cfg.max_epochs=$1 $COMMON \
      > $OUT/log_$2_$arm.txt 2>&1 &
    pids="$pids $!"
  done
  for p in $pids; do wait $p || echo "arm failed (pid $p)"; done
}

t0=$(date +%s)
run_arms 1 probe
t1=$(date +%s)
PROBE_S=$((t1 - t0))
EPOCHS=$(( (BUDGET_S - PROBE_S) / (PROBE_S > 25 ? PROBE_S - 20 : 5) ))
[ $EPOCHS -lt 2 ] && EPOCHS=2
echo "probe epoch with startup: ${PROBE_S}s -> $EPOCHS epochs"
tail -3 $OUT/log_probe_*.txt
run_arms $EPOCHS full
t2=$(date +%s)
echo "full run: $((t2 - t1))s for $EPOCHS epochs"
for arm in $ARMS; do
  python3 tools/gpu/pack_checkpoint.py work_dirs/gpu_full_$arm $OUT/$arm \
    --epochs $EPOCHS --seconds $((t2 - t1)) --device "$(nvidia-smi --query-gpu=name --format=csv,noheader)"
  grep -E "Epoch\(train\).*\[$EPOCHS\]" $OUT/log_full_$arm.txt | tail -1
done
ls -la $OUT
