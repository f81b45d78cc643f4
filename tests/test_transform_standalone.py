"""A bare Transform or Projection written on its own, as the top-level tree of a JSON or FITS file.

Expected layout (BEHAVIOUR.md §1.4, checked against lsst-images 30.2026.2100): a
Transform has no ``_archive_default_name``, so its serialized model is the whole
tree -- ``frames`` (in and out), ``bounds`` (one per frame, defaulting to the
frames' bboxes) and ``mappings`` (one ``{"ast": ...}`` entry, a UnitMap for an
identity); empty metadata and butler_info are left out.
"""

from __future__ import annotations

import json
import unittest

import astropy.units as u
import numpy as np
import pytest

import lsst.images.fits
import lsst.images.json
from lsst.images import XY, Box, DetectorFrame, Projection, SkyFrame, Transform
from lsst.images.fits import PointerModel
from lsst.images.serialization import JsonRef
from lsst.images.tests import (
    DP2_VISIT_DETECTOR_DATA_ID,
    RoundtripFits,
    RoundtripJson,
    check_projection,
    check_transform,
    make_random_projection,
)
from rubin_reference import run_reference_2100

TC = unittest.TestCase()
FRAME = DetectorFrame(**DP2_VISIT_DETECTOR_DATA_ID, bbox=Box.factory[:5, :4])
POINTS = XY(np.array([0.0, 1.5, 3.0]), np.array([0.0, 4.0, 2.5]))


def test_archive_tree_types() -> None:
    from lsst.images import ProjectionSerializationModel, TransformSerializationModel

    # The models validate their pointers through the reading archive's context, so the
    # "specialised" model may be the generic class itself (no per-pointer rebuild); what
    # counts is that it is the transform's (projection's) model and parses its archives.
    for pointer in (JsonRef, PointerModel):
        assert issubclass(Transform._get_archive_tree_type(pointer), TransformSerializationModel)
        assert issubclass(Projection._get_archive_tree_type(pointer), ProjectionSerializationModel)
    assert Transform._get_archive_tree_type(JsonRef) is Transform._get_archive_tree_type(JsonRef)
    assert not hasattr(Transform, "_archive_default_name")


def test_identity_json_layout(tmp_path) -> None:
    identity = Transform.identity(FRAME)
    assert identity.decompose() == []
    assert identity.in_bounds == FRAME.bbox and identity.out_bounds == FRAME.bbox
    path = tmp_path / "identity.json"
    lsst.images.json.write(identity, path)
    document = json.loads(path.read_text())
    assert set(document) == {"frames", "bounds", "mappings"}
    frame = {
        "frame_type": "DETECTOR",
        "instrument": "LSSTCam",
        "visit": 2025052000177,
        "detector": 85,
        "bbox": {"y": {"start": 0, "stop": 5}, "x": {"start": 0, "stop": 4}},
    }
    assert document["frames"] == [frame, frame]
    assert document["bounds"] == [frame["bbox"], frame["bbox"]]
    (mapping,) = document["mappings"]
    assert set(mapping) == {"ast"} and mapping["ast"].startswith(" Begin UnitMap")
    result = lsst.images.json.read(Transform, path)
    assert isinstance(result.deserialized, Transform)
    assert result.metadata == {} and result.butler_info is None
    assert result.deserialized.decompose() == []


@pytest.mark.parametrize("roundtrip", [RoundtripJson, RoundtripFits])
def test_identity_round_trips(roundtrip) -> None:
    identity = Transform.identity(FRAME)
    check_transform(TC, identity, POINTS, POINTS, FRAME, FRAME)
    with roundtrip(TC, identity) as rt:
        check_transform(TC, rt.result, POINTS, POINTS, FRAME, FRAME)
        assert rt.result.in_bounds == FRAME.bbox and rt.result.out_bounds == FRAME.bbox
    check_transform(TC, rt.result.inverted(), POINTS, POINTS, FRAME, FRAME)


@pytest.mark.parametrize("roundtrip", [RoundtripJson, RoundtripFits])
def test_projection_and_its_transform_round_trip(roundtrip) -> None:
    bbox = Box.factory[10:90, 20:120]
    frame = DetectorFrame(instrument="TestCam", visit=1, detector=3, bbox=bbox)
    projection = make_random_projection(np.random.default_rng(7), frame, bbox)
    x, y = (v.ravel().astype(np.float64) for v in bbox.meshgrid(n=4))
    sky = projection.pixel_to_sky(x=x, y=y)
    with roundtrip(TC, projection) as rt:
        check_projection(TC, rt.result, XY(x, y), sky, frame)
        assert rt.result.show() == projection.show()
    transform = projection.pixel_to_sky_transform
    sky_xy = XY(sky.ra.to_value(u.rad), sky.dec.to_value(u.rad))
    with roundtrip(TC, transform) as rt:
        assert rt.result.in_frame == frame and rt.result.out_frame == SkyFrame.ICRS
        assert rt.result.in_bounds == bbox
        check_transform(TC, rt.result, XY(x, y), sky_xy, frame, SkyFrame.ICRS)


def test_identity_file_matches_the_reference_wheel(tmp_path) -> None:
    ours = tmp_path / "ours.json"
    lsst.images.json.write(Transform.identity(FRAME), ours)
    script = f"""
        import json, os, tempfile
        import lsst.images.json
        from lsst.images import Box, DetectorFrame, Transform
        data_id = dict(instrument="LSSTCam", visit=2025052000177, detector=85)
        frame = DetectorFrame(**data_id, bbox=Box.factory[:5, :4])
        path = os.path.join(tempfile.mkdtemp(), "reference.json")
        lsst.images.json.write(Transform.identity(frame), path)
        ours = lsst.images.json.read(Transform, {str(ours)!r})
        print(json.dumps({{
            "document": json.load(open(path)),
            "ours_in_frame": ours.deserialized.in_frame.model_dump(mode="json"),
            "ours_metadata": ours.metadata,
        }}))
    """
    reference = run_reference_2100(script)
    assert json.loads(ours.read_text()) == reference["document"]
    assert reference["ours_in_frame"]["detector"] == 85
    assert reference["ours_metadata"] == {}
