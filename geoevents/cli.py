"""Command line: a thin shell over the Python API (no logic lives here).

Exit status: 0 when every document was processed, 1 when some failed (one line each on
stderr, naming the file), 2 for a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

from .limits import DEFAULT_DOC_TIMEOUT, DEFAULT_MAX_BYTES


def _date(value: str) -> date:
    from .documents import parse_date
    try:
        d = parse_date(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if d is None:
        raise argparse.ArgumentTypeError(f"unknown date {value!r}")
    return d


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return n


def _seconds(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        x = -1.0
    if not x >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {value!r}")
    return x


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(x) for x in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WEST,SOUTH,EAST,NORTH, got {value!r}") from None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise argparse.ArgumentTypeError(f"not a box west<=east, south<=north: {value!r}")
    return w, s, e, n


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="geoevents", description=(
        "Offline conflict-event mapper: place mentions, events and maps from war reporting."))
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="extract mentions and events from documents; write outputs")
    run.add_argument("inputs", nargs="+", help="files (.txt .md .html .jsonl), directories, or -")
    run.add_argument("--out", required=True, help="output directory")
    _input_options(run)
    run.add_argument("--title", default="geoevents", help="map title")
    run.add_argument("--tiles", help="add an online tile layer from this URL template")
    run.add_argument("--baseline", help="control before the first report (CSV or GeoJSON: "
                                        "place or place_id, controller, as_of)")
    run.add_argument("--store", help="a GeoPackage kept across runs: documents already in it "
                                     "are skipped, outputs cover the whole store")
    run.add_argument("--jobs", type=_positive, default=1,
                     help="worker processes on this machine (same output as --jobs 1)")
    run.add_argument("--dask", metavar="SCHEDULER",
                     help="run the extraction on a Dask cluster (address, or 'local')")
    run.add_argument("--no-fusion", dest="fusion", action="store_false",
                     help="keep one event per document report instead of fusing reports "
                          "of one happening across documents")
    run.add_argument("--raw", action="store_true",
                     help="also write events_raw.geojson, the events before fusion (the store "
                          "keeps them: geoevents export STORE --layer events_raw)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--max-bytes", type=_positive, default=DEFAULT_MAX_BYTES,
                     help="skip a document (a file, or a JSONL line) larger than this "
                          f"(default {DEFAULT_MAX_BYTES:,})")
    run.add_argument("--doc-timeout", type=_seconds, default=DEFAULT_DOC_TIMEOUT,
                     metavar="SECONDS", help="skip a document whose reading or extraction "
                     f"takes longer (default {DEFAULT_DOC_TIMEOUT:g}; 0: no limit)")
    run.add_argument("--wait", action="store_true",
                     help="wait for another run on the same --out/--store instead of failing")

    demo = sub.add_parser("demo", help="run the whole pipeline on the embedded demo corpus")
    demo.add_argument("--out", default="geoevents-demo", help="output directory")

    ev = sub.add_parser("eval", help="score the pipeline against gold annotations")
    ev.add_argument("inputs", nargs="+")
    ev.add_argument("--gold", required=True, help="directory of *.gold.json files")
    ev.add_argument("--json", default="eval.json", help="where to write the scores (JSON)")
    _input_options(ev)

    ctl = sub.add_parser("control", help="who holds what as of a date, from events.geojson")
    ctl.add_argument("events", help="an events.geojson written by run or demo")
    ctl.add_argument("--as-of", type=_date, help="the date (default: the latest change)")
    ctl.add_argument("--baseline", help="control before the first report (CSV or GeoJSON)")
    ctl.add_argument("-o", "--out", help="write the snapshot GeoJSON here")

    mp = sub.add_parser("map", help="a self-contained HTML map (and/or PNG) of events.geojson, "
                                    "with a control time slider")
    mp.add_argument("events", help="an events.geojson written by run or demo")
    mp.add_argument("-o", "--out", help="write the HTML map here")
    mp.add_argument("--control", help="control.geojson (default: computed from the events)")
    mp.add_argument("--baseline", help="control before the first report, when --control is not given")
    mp.add_argument("--as-of", type=_date, help="the date the slider opens at and the PNG shows "
                                                "(default: the latest)")
    mp.add_argument("--fragment", action="store_true",
                    help="write a <div> with inline scripts/styles to paste into a page")
    mp.add_argument("--png", help="also write a static PNG as of the date")
    mp.add_argument("--title", default="geoevents", help="map title")

    ex = sub.add_parser("export", help="write a layer of a --store GeoPackage as GeoJSON, "
                                       "CSV, GeoPackage or GeoParquet")
    ex.add_argument("store", help="a GeoPackage written by run --store")
    ex.add_argument("--format", required=True, choices=("geojson", "csv", "gpkg", "parquet"))
    ex.add_argument("--layer", default="events",
                    choices=("events", "events_raw", "mentions", "documents"),
                    help="events (fused, default), events_raw (per document), mentions, "
                         "documents")
    ex.add_argument("--since", type=_date, help="events dated on or after this day")
    ex.add_argument("--bbox", type=_bbox, help="WEST,SOUTH,EAST,NORTH in degrees")
    ex.add_argument("-o", "--out", required=True, help="output file")

    res = sub.add_parser("resolve", help="ranked gazetteer candidates for place names")
    res.add_argument("names", nargs="+")
    res.add_argument("--json", action="store_true", help="print JSON")
    res.add_argument("--limit", type=int, default=5)

    gz = sub.add_parser("gazetteer", help="inspect or extend the local gazetteer")
    gsub = gz.add_subparsers(dest="gazetteer_command", required=True)
    gsub.add_parser("info", help="tables, counts per level, load time")
    gs = gsub.add_parser("search", help="ranked places for a name (any spelling)")
    gs.add_argument("name")
    gs.add_argument("--limit", type=int, default=10)
    gs.add_argument("--json", action="store_true", help="print JSON")
    gi = gsub.add_parser("import", help="add places from a GeoNames dump or a WOF-style TSV")
    gi.add_argument("file")
    return ap


def _input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metadata", help="CSV with file,published,source[,url,title]")
    p.add_argument("--published", type=_date, help="default publication date (YYYY-MM-DD)")


def _report_errors(result) -> int:
    for s in result.skipped:
        print(f"geoevents: error: {s['file']}: {s['reason']}", file=sys.stderr)
    return 1 if result.skipped else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("run", "eval") and args.metadata and not Path(args.metadata).is_file():
        print(f"geoevents: error: {args.metadata}: no such metadata file", file=sys.stderr)
        return 2
    if getattr(args, "baseline", None) and not Path(args.baseline).is_file():
        print(f"geoevents: error: {args.baseline}: no such baseline file", file=sys.stderr)
        return 2
    handler = {"run": _run, "demo": _demo, "eval": _eval, "resolve": _resolve,
               "gazetteer": _gazetteer, "control": _control, "map": _map,
               "export": _export}[args.command]
    return handler(args)


def _run(args) -> int:
    from .pipeline import run
    try:
        baseline = _baseline(args.baseline)
    except (OSError, ValueError, KeyError) as exc:
        print(f"geoevents: error: {exc}", file=sys.stderr)
        return 2
    from .documents import count_documents
    from .progress import Progress
    from .store import StoreError
    progress = Progress(None if args.quiet else count_documents(args.inputs), quiet=args.quiet)
    try:
        result = run(args.inputs, args.out, metadata=args.metadata, published=args.published,
                     title=args.title, tiles=args.tiles, baseline=baseline, store=args.store,
                     jobs=args.jobs, dask=args.dask, fusion=args.fusion, progress=progress,
                     max_bytes=args.max_bytes, doc_timeout=args.doc_timeout or None,
                     wait=args.wait, raw=args.raw)
    except (StoreError, RuntimeError, OSError) as exc:
        print(f"geoevents: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"geoevents: interrupted after {progress.docs} documents ({progress.skipped} "
              f"skipped); {args.out} keeps the outputs of the last complete run"
              + ("; the store keeps every committed batch" if args.store else ""),
              file=sys.stderr)
        return 130
    r = result.report()
    for d in r["not_utf8"]:
        print(f"geoevents: note: {d['doc']}: read as {d['encoding']}", file=sys.stderr)
    stored = r.get("already_stored")
    print(f"{r['documents_read']} documents, {r['mentions']} mentions, {r['events']} events"
          + (f", {stored} already in the store" if stored else "") + f" -> {args.out}",
          file=sys.stderr)
    return _report_errors(result)


def _export(args) -> int:
    from .export import export_layer
    from .store import Store, StoreError
    if not Path(args.store).is_file():
        print(f"geoevents: error: {args.store}: no such store", file=sys.stderr)
        return 2
    try:
        with Store(args.store) as st:
            n = export_layer(st, args.layer, args.format, args.out,
                             since=args.since.isoformat() if args.since else None, bbox=args.bbox)
    except (StoreError, ValueError, OSError) as exc:
        print(f"geoevents: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    print(f"{n} {args.layer} -> {args.out}", file=sys.stderr)
    return 0


def _baseline(path: Optional[str]):
    from .ledger import load_baseline
    return load_baseline(path) if path else None


def _control(args) -> int:
    from .export import atomic_write, dumps
    from .ledger import ControlLedger
    try:
        events = json.loads(Path(args.events).read_text(encoding="utf-8"))["features"]
        ledger = ControlLedger(events, _baseline(args.baseline))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"geoevents: error: {args.events}: cannot read events ({exc})", file=sys.stderr)
        return 2
    snap = ledger.to_geojson(args.as_of)
    rows = sorted(((f["properties"]["place"], f["properties"]["controller"] or "-",
                    f["properties"]["status"] or "-") for f in snap["features"]))
    as_of = snap["features"][0]["properties"]["as_of"] if snap["features"] else None
    print(f"control as of {as_of}: {len(rows)} places")
    for place, controller, status in rows:
        print(f"  {place:<34} {controller:<26} {status}")
    if args.out:
        atomic_write(args.out, dumps(snap))
    return 0


def _map(args) -> int:
    from .ledger import ControlLedger
    from .render.map import control_as_of, events_until, render_map, render_png
    if not (args.out or args.png):
        print("geoevents: error: map: give -o OUT.html and/or --png OUT.png", file=sys.stderr)
        return 2
    try:
        events = json.loads(Path(args.events).read_text(encoding="utf-8"))
        if args.control:
            control = json.loads(Path(args.control).read_text(encoding="utf-8"))
        else:
            control = ControlLedger(events["features"], _baseline(args.baseline)).to_geojson()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"geoevents: error: map: cannot read input ({exc})", file=sys.stderr)
        return 2
    if args.out:
        render_map(events, args.out, control=control, title=args.title, as_of=args.as_of,
                   fragment=args.fragment)
    if args.png:
        render_png(events_until(events, args.as_of), args.png, title=args.title,
                   control=control_as_of(control, args.as_of))
    return 0


def demo_corpus() -> Path:
    """The embedded demo corpus (original reports written for the project)."""
    return Path(str(resources.files("geoevents") / "demo"))


def _demo(args) -> int:
    from .pipeline import run
    corpus = sorted(str(p) for p in demo_corpus().glob("[0-9]*.md"))
    result = run(corpus, args.out, title="geoevents demo: Syria, 27 Nov - 9 Dec 2024",
                 raw=True)      # the gallery shows every output
    r = result.report()
    print(f"{r['documents_read']} reports, {r['mentions']} place mentions, {r['events']} events")
    print(f"map: {Path(args.out) / 'map.html'}")
    return _report_errors(result)


def _eval(args) -> int:
    from .evaluate import format_table, load_gold, score
    from .documents import read_documents
    from .export import atomic_write, dumps
    from .pipeline import Pipeline
    result = Pipeline().process(read_documents(args.inputs, metadata=args.metadata,
                                               published=args.published))
    scores = score(load_gold(args.gold), result.mentions, result.events)
    print(format_table(scores))
    atomic_write(args.json, dumps(scores))
    return _report_errors(result)


def _resolve(args) -> int:
    return _print_candidates(args.names, args.limit, args.json)


def _print_candidates(names: Sequence[str], limit: int, as_json: bool) -> int:
    from .gazetteer import default_gazetteer
    gaz = default_gazetteer()
    out = {}
    for name in names:
        out[name] = [{"id": p.id, "name": p.name, "level": p.level, "lat": p.lat, "lon": p.lon,
                      "admin1": p.admin1, "admin2": p.admin2, "population": p.population}
                     for p in gaz.search(name, limit=limit)]
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        for name, cands in out.items():
            print(f"{name}: {len(cands)} candidate(s)")
            for c in cands:
                path = " > ".join(x for x in ("Syria" if c["admin1"] else "", c["admin1"],
                                              c["admin2"]) if x)
                print(f"  {c['name']:<32} {c['level']:<13} {c['lat']:.4f}, {c['lon']:.4f}  {path}")
    return 0 if all(out.values()) else 1


def _gazetteer(args) -> int:
    if args.gazetteer_command == "search":
        return _print_candidates([args.name], args.limit, args.json)
    if args.gazetteer_command == "import":
        from .gazetteer_import import import_file
        try:
            import_file(args.file)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            print(f"geoevents: error: {args.file}: {exc}", file=sys.stderr)
            return 1
        return 0
    import time
    from collections import Counter
    from .gazetteer import Gazetteer, tables_dir, user_dir
    t0 = time.perf_counter()
    gaz = Gazetteer.load()
    seconds = time.perf_counter() - t0
    levels = Counter(p.level for p in gaz.places.values())
    print(f"tables: {tables_dir()}")
    print(f"extensions: {user_dir()}")
    print(f"places: {len(gaz.places):,}  name keys: {len(gaz.by_key):,}  load: {seconds:.3f} s")
    for level, n in sorted(levels.items(), key=lambda kv: -kv[1]):
        print(f"  {level:<14} {n:>7,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
