# Table IV "+STM+MSFFM": RHT-R on 300W with the soft transformation only
# (F_S fused at 1x / 2x / 4x; no HTM, so no F_E and no trans loss).
_base_ = ['../rht_res50_300w.py']

model = dict(head=dict(use_htm=False))
