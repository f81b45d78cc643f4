"""Camera geometry: detectors, amplifiers and their orientation in the focal plane.

A `Detector` combines plain pydantic structs (`DetectorAttributes`, `Amplifier`, ...) with the
camera's `~lsst.images.CameraFrameSet`, from which it derives its pixel frame and the transforms to
the focal plane and to field angle.
"""

from .._transforms._camera_frame_set import CameraFrameSet  # where Rubin's 4300 release has it
from ._detector import Detector, DetectorSerializationModel
from ._enums import DetectorType, ReadoutCorner
from ._structs import Amplifier, AmplifierCalibrations, AmplifierRawGeometry, DetectorAttributes, Orientation

__all__ = (
    "Amplifier",
    "AmplifierCalibrations",
    "AmplifierRawGeometry",
    "CameraFrameSet",
    "CameraFrameSetSerializationModel",
    "Detector",
    "DetectorAttributes",
    "DetectorSerializationModel",
    "DetectorType",
    "Orientation",
    "ReadoutCorner",
)


def __getattr__(name: str) -> object:
    # The serialization model is loaded lazily by lsst.images._transforms (it needs pydantic models).
    if name == "CameraFrameSetSerializationModel":
        from .._transforms._models import CameraFrameSetSerializationModel

        return CameraFrameSetSerializationModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
