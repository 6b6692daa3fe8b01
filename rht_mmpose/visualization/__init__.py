"""Drawing of face landmark results."""
from .face_drawer import FaceResultDrawer, boundary_polylines

__all__ = ['FaceResultDrawer', 'boundary_polylines']
