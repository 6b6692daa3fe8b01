# Stage 3 of Trans-R-S, the baseline (trans_res18_s_300w_cpu.py):
# _base_/res18_s_stage3.py from its stage-2 weights.
#   python tools/train.py configs/experiments/trans_res18_s_300w2012_cpu_stage3.py \
#       --work-dir work_dirs/cpu_s/trans_res18_s_2012
_base_ = ['./_base_/res18_s_stage3.py']

load_from = 'checkpoints/stage2/trans_res18_s_300w.pth'
model = dict(head=dict(with_reference=False))  # trans_res18_s_300w_cpu.py
