# RHT-R on the private 300-W test set (300 indoor + 300 outdoor faces,
# mmpose's face_landmarks_300w_test.json): test only, with the checkpoint of
# ./rht_res50_300w.py (same training faces and reference pool):
#   python tools/test.py configs/rht_res50_300w_private.py CHECKPOINT
# Metrics: NME_io (main), NME_ip, FR@0.1, AUC@0.1, AUC@0.08 (the threshold
# of the 300-W challenge's own CED) and AUC@0.07.
_base_ = ['./rht_res50_300w.py']

test_dataloader = dict(
    dataset=dict(
        dataset=dict(ann_file='annotations/face_landmarks_300w_test.json')))
test_evaluator = dict(
    _delete_=True,
    type='FaceNMEMetric',
    norm_mode=['inter_ocular', 'inter_pupil'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.08, 0.07])
