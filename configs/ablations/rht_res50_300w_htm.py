# Table IV "+HTM+MSFFM": RHT-R on 300W with the hard transformation only
# (F_E fused at 1x / 2x / 4x; no STM, so no F_S and no trans loss, whose
# target is F_S).
_base_ = ['../rht_res50_300w.py']

model = dict(head=dict(use_stm=False))
