"""The data butler's formatter for lsst.images types: `GenericFormatter`.

``lsst-daf-butler``'s shipped configuration binds every image storage class
(``VisitImage``, ``MaskedImageV2``, ``ImageV2``, ``MaskV2``, ``ColorImage``, ...) to
``lsst.images.formatters.GenericFormatter``, so with this module installed
``butler.put`` / ``butler.get`` (components and ``bbox`` cut-outs included) go
through this library.  It needs the optional extra ``butler``
(``pip install 'lsst-images-py[butler]'``); ``import lsst.images`` never imports it.
"""

try:
    import lsst.daf.butler  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "lsst.images.formatters needs the data butler (lsst-daf-butler); install the "
        "'butler' extra: pip install 'lsst-images-py[butler]'"
    ) from err

from ._generic import GenericFormatter

__all__ = ("GenericFormatter",)
