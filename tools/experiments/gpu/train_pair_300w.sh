#!/usr/bin/env bash
# Train RHT-R, RHT-R-lite and their identical-budget Trans-R baseline side
# by side on one GPU machine (the device tool), on the compact copy of the
# 300W training faces carried in .gpu/300w_subset. Every arm gets the same
# epochs, seed, data and augmentation: the first arm of ARMS (the slowest,
# RHT-R) fits its epoch count to END_S seconds after the script starts
# (tools/train.py --time-budget, timed on its own first epoch, the cosine
# schedule stretched to match) and the others follow its decision
# (--time-budget-file), so no time goes to a separate probe.
#   END_S=520 bash tools/experiments/gpu/train_pair_300w.sh
#   AMP=--amp END_S=520 bash tools/experiments/gpu/train_pair_300w.sh   # mixed precision
#   ARMS="rht_res50_300w_subset trans_res50_300w_subset" ...  # two arms
#   REF_CACHE=1 ...   # render the training references once, before the arms
#                     # start (ref_cache=True: loader ~1.17x, ~6 GB disk)
# Carry: .whl (wheels, see tools/experiments/gpu/setup_env.sh) and .gpu (the compact
# data copy); the device tool's 64 MiB limit counts the repo too (the
# bundled checkpoint is 21 MB), so make the copy with --max-side 320
# --quality 80 when the repo has grown.
set -u
T_START=$(date +%s)
END_S=${END_S:-520}
OUT=${OUT:-/tmp/out}
ARMS=${ARMS:-"rht_res50_300w_subset trans_res50_300w_subset rht_res50_lite_300w_subset"}
MAX_EPOCHS=${MAX_EPOCHS:-300}   # upper bound; the budget decides
PACK_S=${PACK_S:-45}            # kept for packing checkpoints and logs
EXTRA=${EXTRA:-}
[ -n "${SKIP_SETUP:-}" ] || source tools/experiments/gpu/setup_env.sh || exit 1
export RHT_DATA_ROOT=$PWD/.gpu PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
# Arms share 16 cores: bound each process's intra-op threads (a run with 16
# each next to 14 loader workers spent 0.3 s per step of batch 16), let
# cuDNN pick its kernels, optional fp16 AMP.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MKL_NUM_THREADS=${OMP_NUM_THREADS:-2}
AMP=${AMP:-}
COMMON="train_dataloader.num_workers=${WORKERS:-4} train_dataloader.batch_size=${BATCH:-16} randomness.seed=0 env_cfg.cudnn_benchmark=True train_cfg.max_epochs=$MAX_EPOCHS param_scheduler.1.end=$MAX_EPOCHS param_scheduler.1.T_max=$MAX_EPOCHS default_hooks.checkpoint.interval=10 $EXTRA"
if [ -n "${REF_CACHE:-}" ]; then
  first_arm=${ARMS%% *}
  python3 - "configs/experiments/$first_arm.py" <<'PY' || exit 1
import sys
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS
import rht_mmpose  # noqa: F401
init_default_scope('mmpose')
ds_cfg = Config.fromfile(sys.argv[1]).train_dataloader.dataset
ds_cfg.ref_cache = True
DATASETS.build(ds_cfg)  # renders the cache once; the arms then read it
PY
  COMMON="$COMMON train_dataloader.dataset.ref_cache=True"
fi
DECISION=$PWD/work_dirs/gpu_budget_decision.json
rm -f "$DECISION"
LEFT=$(( END_S - ($(date +%s) - T_START) - PACK_S ))
echo "training budget: ${LEFT}s for the first arm; the others follow it"
pids=""
leader=""
for arm in $ARMS; do
  if [ -z "$leader" ]; then
    leader=$arm
    budget="--time-budget $LEFT --time-budget-file $DECISION"
  else
    budget="--time-budget-file $DECISION"
  fi
  python3 tools/train.py configs/experiments/$arm.py --work-dir work_dirs/gpu_full_$arm \
    --no-validate $AMP $budget --cfg-options $COMMON \
    > $OUT/log_full_$arm.txt 2>&1 &
  pids="$pids $!"
done
leader_pid=${pids# }; leader_pid=${leader_pid%% *}
wait $leader_pid || echo "first arm failed (pid $leader_pid)"
if [ ! -f "$DECISION" ]; then
  # the leader died before deciding: the followers would wait for nothing
  echo "no epoch decision from the first arm; stopping the others"
  for p in $pids; do kill $p 2>/dev/null; done
fi
for p in $pids; do [ $p = $leader_pid ] || wait $p || echo "arm failed (pid $p)"; done
t_end=$(date +%s)
EPOCHS=$(python3 -c "import json; print(json.load(open('$DECISION'))['max_epochs'])" 2>/dev/null || echo 0)
echo "trained $EPOCHS epochs per arm, $((t_end - T_START))s since start"
DEV="$(nvidia-smi --query-gpu=name --format=csv,noheader)"
for arm in $ARMS; do
  grep -E "TimeBudgetHook" $OUT/log_full_$arm.txt | tail -1
  python3 tools/experiments/gpu/pack_checkpoint.py work_dirs/gpu_full_$arm $OUT/$arm \
    --epochs $EPOCHS --seconds $((t_end - T_START)) --device "$DEV"
  grep -E "Epoch\(train\)" $OUT/log_full_$arm.txt | tail -1
done
(cd $OUT && tar czf logs.tgz log_*.txt *.json 2>/dev/null; rm -f log_*.txt *.json)
ls -la $OUT
