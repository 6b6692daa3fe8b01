# Stage 2 of RHT-R-S + correspondence loss (rht_res18_s_match_300w_cpu.py):
# _base_/res18_s_stage2.py from its stage-1 weights.
#   python tools/train.py configs/experiments/rht_res18_s_match_300w_cpu.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match
#   python tools/train.py configs/experiments/rht_res18_s_match_300w_cpu_stage2.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match_stage2
_base_ = ['./_base_/res18_s_stage2.py']

load_from = 'work_dirs/cpu_s/rht_res18_s_match/epoch_40.pth'
model = dict(
    head=dict(match_loss_weight=0.01, match_temperature=0.1),
    test_cfg=dict(num_refs=10))  # the arm: rht_res18_s_match_300w_cpu.py
