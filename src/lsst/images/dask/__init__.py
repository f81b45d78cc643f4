"""Lazy dask arrays over the planes of lsst.images FITS files, local or remote.

`from_fits` turns one plane (image, variance, the packed mask or one mask plane) of a
file into a ``dask.array.Array``; `stack` stacks the same plane of many files along a
new first axis.  Building reads only headers and the tile index; each chunk's task
decodes only its own compression tiles, through the same engine as
``read_fits(bbox=...)``.  The graphs pickle small and run on ``dask.distributed``.

This module needs the optional ``dask`` extra (``pip install 'lsst-images-py[dask]'``,
which brings ``dask[array]`` and ``distributed``); importing it does not import dask,
calling its functions does (with an error naming the extra if it is missing).
"""

from ._arrays import from_fits, stack
from ._files import clear_cache
from ._plane import FitsPlane
from ._stack import FitsStack

__all__ = ("FitsPlane", "FitsStack", "clear_cache", "from_fits", "stack")
