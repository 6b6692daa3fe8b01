from .face_nme import auc_fr, eye_distance, face_nme, nme_summary

__all__ = ['auc_fr', 'eye_distance', 'face_nme', 'nme_summary']
