"""FaceResultDrawer.draw: dots and lines sized to the face."""
import cv2
import numpy as np
import pytest

from rht_mmpose.visualization import FaceResultDrawer
from rht_mmpose.visualization.face_drawer import face_size, mark_sizes


def one_face(diagonal, corner=50.):
    """Three points: two hidden corners that set the landmark box (its
    diagonal is ``diagonal``) and one shown dot in the middle."""
    side = diagonal / np.sqrt(2)
    kpts = np.array([[corner, corner], [corner + side, corner + side],
                     [corner + side / 2, corner + side / 2]])
    return dict(box=np.array([corner, corner, corner + side, corner + side]),
                keypoints=kpts, keypoint_scores=np.array([0., 0., 1.]))


@pytest.mark.parametrize('diagonal', [60, 100, 400, 1000])
@pytest.mark.parametrize('radius,thickness', [(2, 1), (4, 3)])
def test_dot_and_box_sizes_follow_the_formula(diagonal, radius, thickness):
    face = one_face(diagonal)
    drawer = FaceResultDrawer(radius=radius, line_width=thickness,
                              kpt_thr=0.5)
    black = np.zeros((800, 800, 3), np.uint8)
    # the documented rule: radius `radius` for a 200 px face, width
    # `thickness` for a 140 px face, linear in the landmark box diagonal,
    # at least 1 pixel
    r = max(1, int(round(diagonal * radius / 200)))
    w = max(1, int(round(diagonal * 0.7 * thickness / 100)))
    assert face_size(face['keypoints']) == pytest.approx(diagonal)
    assert mark_sizes(diagonal, radius / 2, thickness * 0.7) == (r, w)

    dot = drawer.draw(black, [face], contours=False, draw_box=False)
    cx, cy = (int(round(v)) for v in face['keypoints'][2])
    want = cv2.circle(black.copy(), (cx, cy), r, (255, 255, 255), -1,
                      cv2.LINE_AA)
    np.testing.assert_array_equal(dot, want)
    # the dot really is that big: 2r + 1 bright pixels across its centre
    across = int((dot[cy, :, 0] > 127).sum())
    assert abs(across - (2 * r + 1)) <= 1, (across, r)

    boxed = drawer.draw(black, [face], contours=False)
    x1, y1, x2, y2 = (int(round(v)) for v in face['box'])
    want = cv2.rectangle(black.copy(), (x1, y1), (x2, y2), (0, 255, 0), w,
                         cv2.LINE_AA)
    want = cv2.circle(want, (cx, cy), r, (255, 255, 255), -1, cv2.LINE_AA)
    np.testing.assert_array_equal(boxed, want)


def test_small_and_large_faces_in_one_image_get_their_own_sizes():
    drawer = FaceResultDrawer(radius=2, kpt_thr=0.5)
    small, large = one_face(80, corner=20), one_face(600, corner=150)
    out = drawer.draw(np.zeros((800, 800, 3), np.uint8), [small, large],
                      contours=False, draw_box=False)
    widths = []
    for face in (small, large):
        cx, cy = (int(round(v)) for v in face['keypoints'][2])
        widths.append(int((out[cy, cx - 20:cx + 21, 0] > 127).sum()))
    # radius 1 -> 3 px across; radius 6 -> 13 px across
    assert abs(widths[0] - 3) <= 1 and abs(widths[1] - 13) <= 1, widths


def test_contours_are_lines_through_the_boundary_points():
    # a boundary of three collinear points: a straight line between them
    kpts = np.array([[100., 200.], [200., 200.], [300., 200.]])
    face = dict(box=None, keypoints=kpts, keypoint_scores=np.zeros(3))
    drawer = FaceResultDrawer(boundaries=[[0, 1, 2]], kpt_thr=0.5)
    black = np.zeros((400, 400, 3), np.uint8)
    out = drawer.draw(black, [face], draw_box=False)
    lit = out.max(axis=2) > 127
    assert lit[200, 110:290].all()
    assert not lit[:190].any() and not lit[211:].any()
    assert not drawer.draw(black, [face], contours=False,
                           draw_box=False).any()


def test_panels_show_the_heatmap_and_the_reference_beside_the_image():
    """The heatmap panel is the image with the faces' heatmap maximum
    coloured over it; the reference panel one tile per distinct
    reference, captioned with its pool indices."""
    img = np.full((300, 400, 3), 60, np.uint8)
    heat = np.zeros((300, 400), np.float32)
    heat[100:120, 200:220] = 1.
    face = dict(box=None, keypoints=np.array([[10., 10.], [20., 20.]]),
                heatmap=heat)
    ref = dict(index=[3, 7], image=np.zeros((32, 32, 3), np.uint8),
               heatmaps=np.ones((5, 32, 32), np.float32))
    out = FaceResultDrawer().draw(img, [face], heatmaps=True,
                                  references=[ref])
    # one reference: a 300 px tile (the image height)
    assert out.shape[0] == 300 and out.shape[1] == 400 + 400 + 300
    panel = out[:, 400:800].astype(int)
    # the JET colour map over the image: red where the heatmap peaks, blue
    # (its cold end) elsewhere
    hot, cold = panel[110, 210], panel[250, 50]
    assert hot[2] > cold[2] + 50 and cold[0] > hot[0] + 50, (hot, cold)
    assert (panel[200:] == cold).all()  # below the caption and the peak
