"""On-demand fuzz run: thousands of damaged copies of the reference fixtures, read with a watchdog.

Usage::

    python benchmarks/fuzz_readers.py [--mutants 10000] [--seed 1] [--workers 2] [--out FILE]

Sources: the lsst.images 2100 and 4300 fixtures and the afw (legacy) fixtures in
``../shared/fixtures`` ("others"), plus our own rewrites of the 2100 fixtures with their
own compression settings and checksums on ("ours").  Each mutant (see
`lsst.images.tests._mutations`) is read like a user would -- ``read_fits`` in full and
then a small ``bbox``, or ``read_legacy`` -- in a pool of worker processes; a read that
takes longer than ``--limit`` seconds (default 2) is killed, re-run alone once to rule out
machine load, and counted as a hang if it times out again.  The summary table is written
to ``benchmarks/results/fuzz.md``; every non-"refused"/"same" case is listed with its
seed so it can be replayed.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import multiprocessing.connection
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("LSST_IMAGES_FIXTURES", ROOT.parent / "shared" / "fixtures"))
RESULTS = ROOT / "benchmarks" / "results" / "fuzz.md"
sys.path.insert(0, str(ROOT / "benchmarks"))
from _timing import progress  # noqa: E402

_LEGACY_CLASSES = {"exposure": "MaskedImage", "masked_image": "MaskedImage", "image": "Image"}


def _sources(workdir: Path) -> list[dict]:
    """Every file to mutate: path, class, reader kind and who wrote it."""
    import json

    from lsst.images import fits

    sources = []
    for layout in ("lsst-images-2100", "lsst-images-4300"):
        manifest = json.loads((FIXTURES / layout / "manifest.json").read_text())
        for name, entry in manifest["files"].items():
            sources.append(
                {"path": str(FIXTURES / layout / entry["file"]), "cls": entry["class"], "legacy": False,
                 "origin": "others", "label": f"{layout[-4:]}/{name}"}
            )  # fmt: skip
    manifest = json.loads((FIXTURES / "legacy" / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["kind"] in _LEGACY_CLASSES:
            sources.append(
                {"path": str(FIXTURES / "legacy" / entry["name"]), "cls": _LEGACY_CLASSES[entry["kind"]],
                 "legacy": True, "origin": "others", "label": f"legacy/{entry['name']}"}
            )  # fmt: skip
    import lsst.images as li

    for source in [s for s in sources if s["label"].startswith("2100/")]:
        cls = getattr(li, source["cls"])
        obj = fits.read(cls, source["path"]).deserialized
        with fits.FitsInputArchive.open(source["path"]) as archive:
            options = archive.get_compression_options()
        out = workdir / ("ours-" + Path(source["path"]).name)
        fits.write(obj, str(out), compression_options=options)
        sources.append({**source, "path": str(out), "origin": "ours", "label": "ours/" + source["label"][5:]})
    usable = []
    for source in sources:  # files the reader cannot read undamaged tell nothing
        try:
            _prepare(source)
            usable.append(source)
        except Exception as err:  # noqa: BLE001
            print(f"skipping {source['label']}: {type(err).__name__}: {err}", file=sys.stderr)
    _STATE.clear()
    return usable


def _small_bbox(obj):
    from lsst.images import Box

    box = obj.bbox
    y0, x0 = box.y.start + box.y.size // 3, box.x.start + box.x.size // 3
    return Box.factory[y0 : y0 + max(1, min(7, box.y.size // 3)), x0 : x0 + max(1, min(9, box.x.size // 3))]


_STATE: dict = {}


def _prepare(source: dict) -> dict:
    """Reference reads of an undamaged source (cached per worker)."""
    from lsst.images.tests._fuzzing import reader_for

    key = source["path"]
    if key not in _STATE:
        read = reader_for(source["cls"], source["legacy"])
        full = read(source["path"])
        bbox = None if source["legacy"] else _small_bbox(full)
        cut = None if bbox is None else read(source["path"], bbox=bbox)
        raw = Path(source["path"]).read_bytes()
        from lsst.images.tests._mutations import hdu_spans

        _STATE[key] = {
            "read": read,
            "full": full,
            "bbox": bbox,
            "cut": cut,
            "raw": raw,
            "spans": hdu_spans(raw),
        }
    return _STATE[key]


def run_case(source: dict, seed: int, tmpdir: str) -> tuple[str, str, str]:
    """Mutate ``source`` with ``seed``, read it; return (mutator, outcome, detail)."""
    from lsst.images.tests._fuzzing import read_outcome
    from lsst.images.tests._mutations import mutate

    state = _prepare(source)
    kind, data = mutate(state["raw"], seed, spans=state["spans"])
    path = os.path.join(tmpdir, f"mutant-{seed}-{Path(source['path']).name}")
    try:
        outcome = read_outcome(data, path, state["read"], state["full"])
        if outcome.kind in ("same", "refused") and state["bbox"] is not None:
            cut = read_outcome(data, path, state["read"], state["cut"], bbox=state["bbox"])
            if cut.kind not in ("same", "refused"):
                outcome = cut
                outcome.detail = "(bbox read) " + outcome.detail
            elif outcome.kind == "same":
                outcome = cut
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return kind, outcome.kind, outcome.detail


def _worker(conn, tmpdir: str) -> None:
    import lsst.images  # noqa: F401 - imports are not part of a read's time

    while True:
        task = conn.recv()
        if task is None:
            return
        source, seed = task
        try:
            _prepare(source)  # reference reads of the undamaged file: not timed either
            conn.send("started")
            conn.send(run_case(source, seed, tmpdir))
        except Exception as err:  # noqa: BLE001 - a broken reference read is reported, not fatal
            conn.send(("?", "crash", f"harness: {type(err).__name__}: {err}"))


class _Pool:
    def __init__(self, n: int, tmpdir: str, limit: float) -> None:
        self.tmpdir, self.limit = tmpdir, limit
        self.slots = [self._spawn() for _ in range(n)]

    def _spawn(self) -> dict:
        context = multiprocessing.get_context("spawn")  # no inherited threads or AST state
        parent, child = context.Pipe()
        proc = context.Process(target=_worker, args=(child, self.tmpdir), daemon=True)
        proc.start()
        return {"proc": proc, "conn": parent, "task": None, "started": None}

    def run(self, tasks: list, on_result, on_timeout) -> None:
        pending = collections.deque(tasks)
        while pending or any(s["task"] is not None for s in self.slots):
            for slot in self.slots:
                if slot["task"] is None and pending:
                    slot["task"] = pending.popleft()
                    slot["started"] = None
                    slot["assigned"] = time.monotonic()
                    slot["conn"].send(slot["task"])
            busy = [s["conn"] for s in self.slots if s["task"] is not None]
            ready = multiprocessing.connection.wait(busy, timeout=0.05)
            now = time.monotonic()
            for i, slot in enumerate(self.slots):
                if slot["task"] is None:
                    continue
                if slot["conn"] in ready:
                    try:
                        result = slot["conn"].recv()
                    except EOFError:  # the worker died (e.g. a segfault)
                        result = ("?", "crash", "worker process died")
                        self._replace(i)
                    if result == "started":
                        slot["started"] = time.monotonic()
                        continue
                    on_result(slot["task"], result, now - (slot["started"] or now))
                    slot["task"] = None
                elif (slot["started"] is not None and now - slot["started"] > self.limit) or (
                    now - slot["assigned"] > 120
                ):
                    task = slot["task"]
                    self._replace(i)
                    on_timeout(task)

    def _replace(self, i: int) -> None:
        self.slots[i]["proc"].kill()
        self.slots[i]["proc"].join()
        self.slots[i] = self._spawn()

    def close(self) -> None:
        for slot in self.slots:
            slot["conn"].send(None)
            slot["proc"].join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=float, default=2.0, help="seconds before a read counts as a hang")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not FIXTURES.is_dir():
        print(f"fixtures not found at {FIXTURES}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="lsst-images-fuzz-") as tmpdir:
        sources = _sources(Path(tmpdir))
        tasks = [(sources[i % len(sources)], args.seed * 1_000_003 + i) for i in range(args.mutants)]
        counts: dict = collections.defaultdict(collections.Counter)
        by_mutator: dict = collections.defaultdict(collections.Counter)
        problems: list[str] = []
        started = time.monotonic()
        bar = iter(progress(range(len(tasks)), "mutants"))

        def record(task, result, seconds) -> None:
            next(bar, None)
            source, seed = task
            mutator, outcome, detail = result
            counts[source["origin"]][outcome] += 1
            by_mutator[mutator][outcome] += 1
            if outcome not in ("same", "refused") and not (
                outcome == "different" and source["origin"] == "others"
            ):
                problems.append(f"| {outcome} | {source['label']} | {seed} | {mutator} | {detail[:160]} |")

        def retry(task) -> None:
            # Re-run alone with a fresh worker: a slow machine is not a hang.
            single = _Pool(1, tmpdir, args.limit)
            single.run([task], record, lambda t: hang(t))
            single.close()

        def hang(task) -> None:
            next(bar, None)
            source, seed = task
            counts[source["origin"]]["hang"] += 1
            problems.append(f"| hang | {source['label']} | {seed} | ? | > {args.limit} s |")

        pool = _Pool(args.workers, tmpdir, args.limit)
        pool.run(tasks, record, retry)
        pool.close()
        elapsed = time.monotonic() - started
    _write_report(args, sources, counts, by_mutator, problems, elapsed)
    print(args.out.read_text())
    return 0


def _write_report(args, sources, counts, by_mutator, problems, elapsed) -> None:
    columns = ("refused", "same", "different", "unnamed", "crash", "hang")
    lines = [
        "# Fuzz run: damaged fixtures through the readers",
        "",
        f"`python benchmarks/fuzz_readers.py --mutants {args.mutants} --seed {args.seed}` "
        f"({len(sources)} source files, {elapsed:.0f} s on {os.cpu_count()} CPUs, "
        f"hang limit {args.limit} s).",
        "Outcomes: *refused* = `ArchiveReadError` naming the file; *same* = the damage did not",
        "change the pixels read; *different* = a read that succeeded with other pixels; *unnamed* =",
        "an `ArchiveReadError` not naming the file; *crash* = any other exception.  *ours* = the",
        "2100 fixtures rewritten by this library (own compression settings, checksums on);",
        "*others* = files written by Rubin's lsst.images 2100/4300 and by afw.",
        "",
        "| files | mutants | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for origin in ("ours", "others"):
        c = counts[origin]
        lines.append(f"| {origin} | {sum(c.values())} | " + " | ".join(str(c[k]) for k in columns) + " |")
    lines += ["", "By mutation (both origins):", "", "| mutation | " + " | ".join(columns) + " |"]
    lines.append("|---|" + "---|" * len(columns))
    for name in sorted(by_mutator):
        lines.append(f"| {name} | " + " | ".join(str(by_mutator[name][k]) for k in columns) + " |")
    lines += ["", "Cases needing attention (silently different reads of *others* files are counted above, "
              "not listed):", ""]  # fmt: skip
    if problems:
        lines += ["| outcome | file | seed | mutation | detail |", "|---|---|---|---|---|", *problems[:200]]
    else:
        lines.append("None.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
