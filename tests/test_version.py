"""`lsst.images.version`: the package version where Rubin's generated module has it."""

from importlib.metadata import version

import lsst.images
import lsst.images.version


def test_version_module() -> None:
    assert lsst.images.version.__all__ == ["__version__"]
    assert lsst.images.version.__version__ == version("lsst-images-py")
    assert lsst.images.__version__ == lsst.images.version.__version__
    assert lsst.images.__version__.split(".")[0].isdigit()
