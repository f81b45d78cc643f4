"""A calexp-like synthetic scene for the FITS benchmarks (deterministic, numpy + scipy only).

Pure noise compresses (and decompresses) very differently from a real calibrated
exposure: a real one has a flat sky with Poisson noise, compact sources over many
decades of brightness, saturated cores clipped to one value, dead columns, and a mask
whose planes are mostly empty but not uniformly so.  `make_scene` builds such an
exposure so that timings and file sizes mean something for real data:

* sky background (~900 counts, slowly varying) with Poisson noise plus read noise,
  then the sky subtracted as a calibrated exposure would have it;
* a few thousand stars with a Gaussian PSF and fluxes spread log-uniformly over five
  decades, plus faint extended galaxies;
* saturated cores clipped to the saturation level, with short bleed trails;
* cosmic-ray hits (short tracks of a few very bright pixels);
* bad columns set to 0 and a vignetted, data-free corner;
* a variance plane estimated from the noisy counts, like a calexp's;
* 14 mask planes with realistic coverage: DETECTED about 10 %, an edge frame, a
  vignetted corner, sparse cosmic rays, saturation, bad columns, ...

The module only needs numpy and scipy so that the Rubin virtual environment can load
the arrays it writes (`save_scene` / `load_scene`) without importing this project.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The 14 mask planes of the scene, in schema order (bit ``i`` of the packed mask is plane ``i``).
PLANES = (
    "BAD", "COSMIC_RAY", "CROSSTALK", "DETECTED", "DETECTION_EDGE", "INTERPOLATED", "ITL_DIP",
    "NOT_DEBLENDED", "NO_DATA", "PARTLY_VIGNETTED", "SATURATED", "SPIKE", "SUSPECT", "VIGNETTED",
)  # fmt: skip

SKY = 900.0  # counts per pixel
READ_NOISE = 5.0  # counts
SATURATION = 120_000.0  # counts
PSF_SIGMA = 1.8  # pixels
NJY_PER_COUNT = 0.2  # calibration: the planes are stored in nJy (variance in nJy**2)


def _bit(name: str) -> np.int32:
    return np.int32(1 << PLANES.index(name))


def make_scene(size: int = 4096, seed: int = 2100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(image, mask, variance)`` of a calexp-like exposure of ``size`` x ``size`` pixels.

    ``image`` and ``variance`` are float32 (nJy, nJy**2); ``mask`` is int32 with bit
    ``i`` set for plane ``PLANES[i]``.  The same ``size`` and ``seed`` always give the
    same arrays.
    """
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    yy, xx = np.ogrid[0:size, 0:size]
    # Point sources: delta functions convolved with the PSF (vectorized, no per-star loop).
    nstars = max(20, 3000 * size * size // 4096**2)
    sy, sx = rng.integers(0, size, nstars), rng.integers(0, size, nstars)
    flux = 10.0 ** rng.uniform(2.0, 7.0, nstars)  # five decades, 100 .. 1e7 counts
    deltas = np.zeros((size, size), np.float64)
    np.add.at(deltas, (sy, sx), flux)
    model = ndimage.gaussian_filter(deltas, PSF_SIGMA, truncate=5.0)
    # Faint extended galaxies: wider Gaussians.
    ngal = max(20, 12000 * size * size // 4096**2)
    deltas[:] = 0.0
    np.add.at(
        deltas,
        (rng.integers(0, size, ngal), rng.integers(0, size, ngal)),
        10.0 ** rng.uniform(2.5, 4.5, ngal),
    )
    model += ndimage.gaussian_filter(deltas, 3.5, truncate=4.0)
    del deltas
    sky = SKY * (1.0 + 0.03 * np.sin(yy / size * 2.5) * np.cos(xx / size * 1.7))
    counts = rng.poisson(sky + model).astype(np.float64) + rng.normal(0.0, READ_NOISE, (size, size))
    mask = np.zeros((size, size), np.int32)

    # Saturation: clipped cores and short bleed trails along the columns of the brightest stars.
    saturated = counts >= SATURATION
    for y, x, f in zip(sy, sx, flux, strict=True):
        if f > 3e6:
            half = int(3 + 25 * np.log10(f / 3e6 + 1.0))
            saturated[max(0, y - half) : y + half, x] = True
    counts[saturated] = SATURATION
    mask[saturated] |= _bit("SATURATED")
    mask[(counts > 0.8 * SATURATION) & ~saturated] |= _bit("SUSPECT")
    # Diffraction spikes and crosstalk ghosts of the brightest stars.
    bright = flux > 1e6
    for y, x in zip(sy[bright], sx[bright], strict=True):
        mask[max(0, y - 40) : y + 40, max(0, x - 1) : x + 2] |= _bit("SPIKE")
        mask[max(0, y - 1) : y + 2, max(0, x - 40) : x + 40] |= _bit("SPIKE")
        gy, gx = y, size - 1 - x  # a ghost in the mirrored amplifier
        mask[max(0, gy - 3) : gy + 4, max(0, gx - 3) : gx + 4] |= _bit("CROSSTALK")

    # Cosmic rays: short tracks of very bright pixels.
    ncr = max(10, 1500 * size * size // 4096**2)
    cy, cx = rng.integers(0, size - 12, ncr), rng.integers(0, size - 12, ncr)
    length = rng.integers(1, 10, ncr)
    steps = np.arange(10)
    ty = (cy[:, None] + (steps[None, :] * rng.uniform(0, 1, ncr)[:, None]).astype(int))[
        steps < length[:, None]
    ]
    tx = (cx[:, None] + (steps[None, :] * rng.uniform(0, 1, ncr)[:, None]).astype(int))[
        steps < length[:, None]
    ]
    counts[ty, tx] += rng.uniform(2e3, 5e4, ty.size)
    mask[ty, tx] |= _bit("COSMIC_RAY")

    # Bad columns (dead: 0) and a few ITL dips (columns of slightly low response near sources).
    bad_columns = rng.choice(size, max(1, 6 * size // 4096), replace=False)
    mask[:, bad_columns] |= _bit("BAD")
    for x in rng.choice(size, max(1, 10 * size // 4096), replace=False):
        y0 = int(rng.integers(0, size - 200))
        mask[y0 : y0 + 200, x] |= _bit("ITL_DIP")
    mask[(mask & (_bit("BAD") | _bit("SATURATED") | _bit("COSMIC_RAY"))) != 0] |= _bit("INTERPOLATED")

    # Detection footprints (~10 %): the noise-free sources above a threshold, grown by 2 pixels.
    detected = ndimage.binary_dilation(model > 0.7 * np.sqrt(SKY), iterations=2)
    mask[detected] |= _bit("DETECTED")
    labels, _ = ndimage.label(model > 300.0)
    sizes = np.bincount(labels.ravel())
    big = np.flatnonzero(sizes > 150)[1:] if sizes.size > 1 else np.array([], int)
    mask[np.isin(labels, big)] |= _bit("NOT_DEBLENDED")
    del labels, model
    edge = max(2, 16 * size // 4096)
    frame = np.zeros((size, size), bool)
    frame[:edge], frame[-edge:], frame[:, :edge], frame[:, -edge:] = True, True, True, True
    mask[frame] |= _bit("DETECTION_EDGE")

    # Vignetting in one corner: a partly vignetted ring, a vignetted core, no data in the very corner.
    r = np.hypot(yy - (size - 1), xx - (size - 1)) / size
    mask[r < 0.30] |= _bit("PARTLY_VIGNETTED")
    mask[r < 0.22] |= _bit("VIGNETTED")
    no_data = r < 0.12
    mask[no_data] |= _bit("NO_DATA")

    variance = (np.maximum(counts, 0.0) + READ_NOISE**2) * NJY_PER_COUNT**2
    image = (counts - sky) * NJY_PER_COUNT
    image[:, bad_columns] = 0.0
    image[no_data] = np.nan
    variance[no_data] = np.nan
    return image.astype(np.float32), mask, variance.astype(np.float32)


def coverage(mask: np.ndarray) -> dict[str, float]:
    """Fraction of pixels in each plane of a packed scene mask."""
    return {name: float(np.count_nonzero(mask & _bit(name)) / mask.size) for name in PLANES}


def save_scene(directory: Path, image: np.ndarray, mask: np.ndarray, variance: np.ndarray) -> None:
    """Write the planes as ``image.npy``, ``mask.npy`` and ``variance.npy`` in ``directory``."""
    for name, array in (("image", image), ("mask", mask), ("variance", variance)):
        np.save(Path(directory) / f"{name}.npy", array)


def load_scene(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read back the planes written by `save_scene`."""
    return tuple(np.load(Path(directory) / f"{name}.npy") for name in ("image", "mask", "variance"))
