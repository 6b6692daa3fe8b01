# RHT-R-S + correspondence loss (not in the paper): an auxiliary
# cross-entropy that teaches Q and K to match the same landmark in target
# and reference (RHTHead.match_loss). Trained as the paper says, the fusion
# learns to ignore the reference branch on 1207 faces, because STM's argmax
# index gives Q and K no gradient, only the confidence A does
# (docs/results.md). Budget and seed are rht_res18_s_300w_cpu.py's.
#   python tools/train.py configs/experiments/rht_res18_s_match_300w_cpu.py
_base_ = ['./rht_res18_s_300w_cpu.py']

model = dict(
    # small against the 5.0 gradient clip: Q and K receive no other loss of
    # this size, and AdamW's step does not depend on the scale
    head=dict(match_loss_weight=0.01, match_temperature=0.1),
    # with the built-in pool (demo, API): average the heatmaps of the 10
    # pool faces with the most similar descriptors
    test_cfg=dict(num_refs=10))
