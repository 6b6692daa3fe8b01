# Stage 2 of Trans-R-S, the baseline (trans_res18_s_300w_cpu.py):
# _base_/res18_s_stage2.py from its stage-1 weights.
#   python tools/train.py configs/experiments/trans_res18_s_300w_cpu.py \
#       --work-dir work_dirs/cpu_s/trans_res18_s
#   python tools/train.py configs/experiments/trans_res18_s_300w_cpu_stage2.py \
#       --work-dir work_dirs/cpu_s/trans_res18_s_stage2
_base_ = ['./_base_/res18_s_stage2.py']

load_from = 'work_dirs/cpu_s/trans_res18_s/epoch_40.pth'
model = dict(head=dict(with_reference=False))  # trans_res18_s_300w_cpu.py
