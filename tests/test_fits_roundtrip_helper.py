"""`lsst.images.tests.RoundtripFits` round trips image-like objects through FITS files."""

from __future__ import annotations

import unittest

import astropy.units as u
import numpy as np

import lsst.images as li
from lsst.images.tests import RoundtripFits


class RoundtripFitsTestCase(unittest.TestCase):
    def setUp(self) -> None:
        rng = np.random.default_rng(8)
        self.image = li.Image(rng.normal(0, 1, (20, 30)).astype(np.float32), unit=u.nJy, start=(5, -3))
        self.image.metadata["answer"] = 42

    def test_image(self) -> None:
        with RoundtripFits(self, self.image) as rt:
            self.assertEqual(rt.result.bbox, self.image.bbox)
            np.testing.assert_array_equal(rt.result.array, self.image.array)
            self.assertEqual(rt.result.unit, u.nJy)
            self.assertEqual(rt.result.metadata, {"answer": 42})
            self.assertNotIn("roundtrip_test_1", self.image.metadata)
            box = li.Box(li.Interval(8, 12), li.Interval(0, 10))
            sub = rt.get(bbox=box)
            np.testing.assert_array_equal(sub.array, self.image[box].array)
            with rt.inspect() as hdus:
                self.assertEqual(hdus[1].header["ZCMPTYPE"], "GZIP_2")
            with self.assertRaises(unittest.SkipTest):
                rt.get(component="image")
        np.testing.assert_array_equal(rt.result.array, self.image.array)


if __name__ == "__main__":
    unittest.main()
