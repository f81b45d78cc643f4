"""Small end-to-end demonstration run by ``scripts/demo.sh``.

It builds a synthetic masked image (noise, a few Gaussian "stars", saturated
cores and a bad column), cuts a sub-image out of it with a `Box`, shows that
the cut-out is a view onto the same memory, and prints a summary.  It then
writes the image to ``<output_dir>/synthetic_masked_image.fits``, reads just
the cut-out box back from the file (only the tiles it needs are decoded), and
prints the ``lsst-images info`` summary of the file.

Run with ``python -m lsst.images._demo [output_dir]`` (default ``sample-output``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import astropy.units as u
import numpy as np

from ._geom import Box
from ._image import Image
from ._mask import MaskPlane, MaskSchema
from ._masked_image import MaskedImage

SCHEMA = MaskSchema(
    [
        MaskPlane("BAD", "Pixel is unusable (bad column)."),
        MaskPlane("SAT", "Pixel is saturated."),
        MaskPlane("DETECTED", "Pixel is part of a detected source."),
    ]
)


def make_synthetic_masked_image(seed: int = 42) -> MaskedImage:
    """Build a 200 x 300 masked image starting at (y, x) = (1000, 2000)."""
    rng = np.random.default_rng(seed)
    bbox = Box.factory[1000:1200, 2000:2300]
    grid = bbox.meshgrid()
    sky_sigma = 5.0
    pixels = rng.normal(100.0, sky_sigma, size=tuple(bbox.shape))
    for _ in range(12):
        x0 = rng.uniform(bbox.x.min, bbox.x.max)
        y0 = rng.uniform(bbox.y.min, bbox.y.max)
        flux = rng.uniform(2e3, 6e4)
        r2 = (grid.x - x0) ** 2 + (grid.y - y0) ** 2
        pixels += flux / (2 * np.pi * 2.0**2) * np.exp(-0.5 * r2 / 2.0**2)
    image = Image(pixels.astype(np.float32), bbox=bbox, unit=u.nJy)
    variance = Image(
        (sky_sigma**2 + np.clip(pixels - 100.0, 0, None)).astype(np.float32), bbox=bbox, unit=u.nJy**2
    )
    masked = MaskedImage(image, variance=variance, mask_schema=SCHEMA, metadata={"SOURCE": "synthetic"})
    masked.mask.set("SAT", image.array > 1500.0)
    masked.mask.set("DETECTED", image.array > 100.0 + 5 * sky_sigma)
    bad_column = masked.absolute[:, 2150:2151]
    bad_column.mask.set("BAD")
    return masked


def summarize(masked: MaskedImage) -> str:
    """Return a few human-readable lines describing a masked image."""
    lines = [
        f"  {masked}",
        f"  bbox={masked.bbox} shape={tuple(masked.bbox.shape)} unit={masked.unit}",
        f"  variance unit={masked.variance.unit}",
        f"  median={np.median(masked.image.array):.2f} max={masked.image.array.max():.1f}",
    ]
    for name in masked.mask.schema.names:
        lines.append(f"  {name:<9} {masked.mask.get(name).mean():7.2%} of pixels")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the demonstration; return a process exit code.

    Parameters
    ----------
    argv
        Optional ``[output_dir]`` (default ``sample-output`` in the working directory).
    """
    masked = make_synthetic_masked_image()
    print("Synthetic masked image:")
    print(summarize(masked))

    cutout_box = Box.factory[1050:1100, 2100:2180]
    cutout = masked[cutout_box]
    print(f"\nCut-out {cutout_box} (absolute coordinates kept):")
    print(summarize(cutout))
    shared = np.shares_memory(cutout.image.array, masked.image.array)
    print(f"  cut-out shares memory with the parent: {shared}")
    corner = masked.local[-10:, -10:]
    print(f"  local[-10:, -10:] -> {corner.bbox} (negative local indices count from the end)")

    output_dir = Path(argv[0] if argv else "sample-output")
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "synthetic_masked_image.fits"
    masked.write_fits(str(path))
    back = MaskedImage.read_fits(str(path), bbox=cutout_box)
    same = bool(np.array_equal(back.image.array, cutout.image.array)) and back.mask == cutout.mask
    print(f"\nWrote {path} ({path.stat().st_size} bytes, lossless GZIP_2 tiles).")
    print(f"Read back only {back.bbox} from the file: identical to the in-memory cut-out = {same}")

    from .cli import main as cli_main

    print(f"\n$ lsst-images info {path}")
    status = cli_main(["info", str(path)])
    return 0 if same and status == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
