"""The main job run by ``scripts/demo.sh`` on the bundled sample visit images.

For every ``*.fits`` file in the sample folder it does what an astronomer does
first with a Rubin visit image: summarize the file without reading pixels
(``lsst-images info``), draw it with every mask plane (``lsst-images show``,
when matplotlib is installed), read it, evaluate the PSF, the photometric scaling and
the sky position at the image centre, convert the pixels to nJy, and cut out a
small region around a sky position straight from the file
(``lsst-images cutout --ra --dec --radius``), reading back only that region.

Then, for every afw-written file in ``SAMPLE_DIR/afw`` that `AFW_VISITS` knows,
it converts the file with ``lsst-images convert --visit`` (afw files often lack
the visit id) and checks that the result has the pixels of the sample of the same
name in ``SAMPLE_DIR`` (``<stem>_sample.fits``) when there is one.

Run with ``python -m lsst.images._tour SAMPLE_DIR [OUTPUT_DIR]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import astropy.units as u
import numpy as np

from ._visit_image import VisitImage
from .display._mpl import matplotlib_available

#: Visit ids of the bundled afw files, which their headers do not hold.
AFW_VISITS = {"hsc_calexp.fits": 904010}


def describe_visit(path: Path, output_dir: Path) -> bool:
    """Run the tour on one file; return whether every check held."""
    from .cli import main as cli_main

    print(f"\n$ lsst-images info {path}")
    if cli_main(["info", str(path)]) != 0:
        return False
    if matplotlib_available():
        picture = output_dir / f"{path.stem}.png"
        print(f"\n$ lsst-images show {path} --mask all -o {picture}")
        if cli_main(["show", str(path), "--mask", "all", "-o", str(picture)]) != 0:
            return False
    else:
        print("\n(lsst-images show skipped: matplotlib, the 'plot' extra, is not installed)")

    visit = VisitImage.read_fits(str(path))
    center_x, center_y = visit.bbox.x.center, visit.bbox.y.center
    sky = visit.projection.pixel_to_sky(x=center_x, y=center_y)
    kernel = visit.psf.compute_kernel_image(x=center_x, y=center_y)
    print(f"\nRead {visit}")
    print(f"  centre (x={center_x}, y={center_y}) is at RA={sky.ra.deg:.6f} deg, Dec={sky.dec.deg:.6f} deg")
    print(f"  PSF kernel there: bbox {kernel.bbox}, sum {kernel.array.sum():.6f}")
    ok = bool(np.isclose(kernel.array.sum(), 1.0))
    if visit.photometric_scaling is not None:
        scale = visit.photometric_scaling(x=np.array([center_x]), y=np.array([center_y]), quantity=True)
        print(f"  photometric scaling there: {scale[0]:.6g}")
        calibrated = visit.convert_unit(u.nJy)
        print(
            f"  converted to {calibrated.unit}: median pixel {np.nanmedian(calibrated.image.array):.4g},"
            f" variance unit {calibrated.variance.unit}"
        )
        ok &= calibrated.unit == u.nJy and calibrated.variance.unit == u.nJy**2

    radius_arcsec = 3.0
    out = output_dir / f"{path.stem}_cutout.fits"
    args = ["cutout", str(path), "--ra", repr(float(sky.ra.deg)), "--dec", repr(float(sky.dec.deg))]
    args += ["--radius", str(radius_arcsec), "-o", str(out)]
    print(f"\n$ lsst-images {' '.join(args[:-2])} -o {out}")
    if cli_main(args) != 0:
        return False
    cutout = VisitImage.read_fits(str(out))
    direct = VisitImage.read_fits(str(path), bbox=cutout.bbox)
    same = bool(np.array_equal(cutout.image.array, direct.image.array, equal_nan=True))
    print(f"  cut-out {cutout.bbox} (absolute coordinates); equals a partial read of the original: {same}")
    return ok and same


def convert_afw(path: Path, visit: int, output_dir: Path) -> bool:
    """Convert one afw-written file; return whether it matches its bundled sample (if any)."""
    from .cli import main as cli_main

    out = output_dir / path.name
    args = ["convert", str(path), "--visit", str(visit), str(out)]
    print(f"\n$ lsst-images {' '.join(args)}")
    if cli_main(args) != 0:
        return False
    converted = VisitImage.read_fits(str(out))
    print(f"  {converted}")
    reference = path.parent.parent / f"{path.stem}_sample.fits"
    if not reference.exists():
        return True
    sample = VisitImage.read_fits(str(reference))
    same = all(
        np.array_equal(getattr(converted, plane).array, getattr(sample, plane).array, equal_nan=True)
        for plane in ("image", "mask", "variance")
    )
    print(f"  same pixels as {reference}: {same}")
    return same


def main(argv: list[str] | None = None) -> int:
    """Run the tour over every sample file; return a process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    sample_dir = Path(argv[0]) if argv else Path("examples/data")
    output_dir = Path(argv[1]) if len(argv) > 1 else Path("sample-output")
    output_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(sample_dir.glob("*.fits"))
    if not files:
        print(f"no sample files in {sample_dir}", file=sys.stderr)
        return 1
    results = [describe_visit(path, output_dir) for path in files]
    print(f"\n{sum(results)} of {len(results)} sample visit images passed every check.")
    afw = [p for p in sorted((sample_dir / "afw").glob("*.fits")) if p.name in AFW_VISITS]
    converted = [convert_afw(path, AFW_VISITS[path.name], output_dir) for path in afw]
    if afw:
        print(f"\n{sum(converted)} of {len(converted)} afw-written files converted as expected.")
    return 0 if all(results) and all(converted) else 1


if __name__ == "__main__":
    sys.exit(main())
