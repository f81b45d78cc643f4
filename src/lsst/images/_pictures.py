"""The README's pictures, drawn by `lsst.images.display` from the bundled samples.

``python -m lsst.images._pictures [OUTPUT_DIR]`` (run by ``scripts/readme_pictures.sh``)
writes ``lsstcam_visit_masks.png`` (the synthetic LSSTCam visit with every mask
plane overlaid, RA/Dec grid and absolute pixel ticks) and ``components.png``
(the rotated HSC calexp cut-out, the LSSTCam PSF kernel with its FWHM, and the
LSSTCam photometric scaling over the whole detector) into ``OUTPUT_DIR``
(default ``docs/images``).  The figures are built outside pyplot, so no display is needed.
"""

from __future__ import annotations

__all__ = ("draw_pictures", "main")

import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"

#: Output resolution of the README pictures.
DPI = 80


def draw_pictures(sample_dir: Path, output_dir: Path) -> list[Path]:
    """Draw both pictures; return the paths written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from . import VisitImage
    from .display import make_axes, show, show_field, show_psf

    output_dir.mkdir(parents=True, exist_ok=True)
    written = []

    lsstcam = VisitImage.read_fits(str(sample_dir / "lsstcam_synthetic_visit.fits"))
    figure = Figure(figsize=(8, 7))
    FigureCanvasAgg(figure)
    show(lsstcam, ax=make_axes(lsstcam, figure=figure), mask="all")
    path = output_dir / "lsstcam_visit_masks.png"
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    written.append(path)

    hsc = VisitImage.read_fits(str(sample_dir / "hsc_calexp_sample.fits"))
    figure = Figure(figsize=(20, 5.5))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(wspace=0.55)
    show(hsc, ax=make_axes(hsc, figure=figure, subplot=131), mask=["BAD", "DETECTED", "SATURATED"])
    show_psf(lsstcam, ax=make_axes(None, figure=figure, subplot=132))
    show_field(
        lsstcam.photometric_scaling, lsstcam.detector.bbox, ax=make_axes(None, figure=figure, subplot=133)
    )
    path = output_dir / "components.png"
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the pictures; return a process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    output_dir = Path(argv[0]) if argv else Path("docs/images")
    for path in draw_pictures(SAMPLES, output_dir):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
