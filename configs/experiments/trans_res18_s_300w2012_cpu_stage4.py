# Stage 4 of Trans-R-S, the baseline (trans_res18_s_300w_cpu.py):
# _base_/res18_s_stage4.py from its stage-3 weights.
#   python tools/train.py configs/experiments/rht_res18_s_match_300w2012_cpu_stage4.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match_2012_stage4 \
#       --time-budget 2700 --time-budget-file work_dirs/cpu_s/stage4_epochs.json
#   python tools/train.py configs/experiments/trans_res18_s_300w2012_cpu_stage4.py \
#       --work-dir work_dirs/cpu_s/trans_res18_s_2012_stage4 \
#       --time-budget-file work_dirs/cpu_s/stage4_epochs.json
_base_ = ['./_base_/res18_s_stage4.py']

load_from = 'checkpoints/stage3/trans_res18_s_300w2012_norefiner.pth'
model = dict(head=dict(with_reference=False))  # trans_res18_s_300w_cpu.py
