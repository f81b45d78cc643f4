"""A box well inside a convex polygon is its own intersection with it, found without shapely.

Cutting a visit image clips its valid polygon to the cut-out box; importing shapely for
that was most of the cost of a first cut-out.  The shortcut must give exactly what the
general (shapely) intersection gives, and must step aside for anything it cannot decide.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import lsst.images as li
from lsst.images._polygon import Polygon, Region


def _convex(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    cx, cy = rng.uniform(-50, 50, 2)
    a, b = rng.uniform(5, 80, 2)
    return cx + a * np.cos(angles), cy + b * np.sin(angles)


def test_shortcut_agrees_with_the_general_intersection() -> None:
    rng = np.random.default_rng(11)
    taken = 0
    for trial in range(1500):
        n = int(rng.integers(3, 10))
        if trial % 2:
            x, y = _convex(rng, n)
        else:
            x, y = rng.uniform(-60, 60, n), rng.uniform(-60, 60, n)
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]
        polygon = Polygon(x_vertices=x, y_vertices=y)
        if not polygon.to_shapely().is_valid:
            continue
        cx, cy = np.mean(x), np.mean(y)
        for _ in range(4):
            w, h = (int(v) for v in rng.integers(1, 30, 2))
            x0, y0 = int(cx + rng.normal(0, 15)) - w // 2, int(cy + rng.normal(0, 15)) - h // 2
            box = li.Box.factory[y0 : y0 + h, x0 : x0 + w]
            if polygon._surrounds(box):
                taken += 1
                assert Region.intersection(polygon, box) == box
                assert polygon.intersection(box) == box
            else:
                try:
                    expected = Region.intersection(polygon, box)
                except li.NoOverlapError:
                    with pytest.raises(li.NoOverlapError):
                        polygon.intersection(box)
                else:
                    assert polygon.intersection(box) == expected
    assert taken > 200  # the shortcut is actually exercised


@pytest.mark.parametrize(
    ("x", "y"),
    [
        # A pentagram: every turn has the same sign, but it winds twice.
        (40 * np.cos(np.arange(5) * 4 * np.pi / 5), 40 * np.sin(np.arange(5) * 4 * np.pi / 5)),
        # A non-convex "L".
        ([0, 40, 40, 20, 20, 0], [0, 0, 20, 20, 40, 40]),
        # A degenerate polygon with a repeated vertex.
        ([0, 40, 40, 40, 0], [0, 0, 40, 40, 40]),
    ],
)
def test_shortcut_steps_aside_when_it_cannot_decide(x, y) -> None:
    polygon = Polygon(x_vertices=x, y_vertices=y)
    assert not polygon._surrounds(li.Box.factory[5:8, 5:8])


def test_box_touching_the_edge_goes_the_exact_way() -> None:
    square = Polygon(x_vertices=[-0.5, -0.5, 9.5, 9.5], y_vertices=[-0.5, 9.5, 9.5, -0.5])
    box = li.Box.factory[0:10, 0:10]  # its pixel edges are the polygon's
    assert not square._surrounds(box)
    assert square.intersection(box) == box


def test_inner_box_needs_no_shapely() -> None:
    code = """
import sys
class Block:
    def find_spec(self, name, path, target=None):
        if name == "shapely" or name.startswith("shapely."):
            raise ImportError("blocked")
sys.meta_path.insert(0, Block())
import lsst.images as li
from lsst.images._polygon import Polygon
p = Polygon(x_vertices=[0.0, 100.0, 110.0, -5.0], y_vertices=[0.0, -3.0, 90.0, 95.0])
box = li.Box.factory[10:60, 20:70]
assert p.intersection(box) == box
assert "shapely" not in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("ok")
