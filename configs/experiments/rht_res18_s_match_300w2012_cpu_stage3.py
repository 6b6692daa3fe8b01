# Stage 3 of RHT-R-S + correspondence loss (rht_res18_s_match_300w_cpu.py):
# _base_/res18_s_stage3.py from its stage-2 weights.
#   python tools/train.py configs/experiments/rht_res18_s_match_300w2012_cpu_stage3.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match_2012
_base_ = ['./_base_/res18_s_stage3.py']

load_from = 'checkpoints/stage2/rht_res18_s_match_300w.pth'
model = dict(
    head=dict(match_loss_weight=0.01, match_temperature=0.1),
    test_cfg=dict(num_refs=10))  # the arm: rht_res18_s_match_300w_cpu.py
