"""Camera geometry: detectors, amplifiers and their orientation in the focal plane.

A `Detector` combines plain pydantic structs (`DetectorAttributes`, `Amplifier`, ...) with the
camera's `~lsst.images.CameraFrameSet`, from which it derives its pixel frame and the transforms to
the focal plane and to field angle.
"""

from ._detector import Detector, DetectorSerializationModel
from ._enums import DetectorType, ReadoutCorner
from ._structs import Amplifier, AmplifierCalibrations, AmplifierRawGeometry, DetectorAttributes, Orientation

__all__ = (
    "Amplifier",
    "AmplifierCalibrations",
    "AmplifierRawGeometry",
    "Detector",
    "DetectorAttributes",
    "DetectorSerializationModel",
    "DetectorType",
    "Orientation",
    "ReadoutCorner",
)
