"""`r1lab report RUN [RUN ...] [--out FILE.html]`: one self-contained HTML page for training runs
and/or `r1lab eval` output directories, readable offline in any browser (r1lab/tracking/report/)."""

from __future__ import annotations

from pathlib import Path


def default_out(paths: list[str]) -> Path:
    """RUN/report.html for one directory; ./report.html for several."""
    return Path(paths[0]) / "report.html" if len(paths) == 1 else Path("report.html")


def add_arguments(p) -> None:
    """The flags of `r1lab report` (the CLI made the parser)."""
    p.add_argument("paths", nargs="+", metavar="RUN",
                   help="run directories (with metrics.jsonl) and/or eval output directories (with summary.json)")
    p.add_argument("--out", help="HTML file to write (default RUN/report.html, or ./report.html for several)")
    p.add_argument("--sample-mb", type=float, default=None, metavar="MB",
                   help="text budget for embedded completions (default 4); beyond it they are thinned evenly")
    p.add_argument("--plotly", choices=["auto", "basic", "full"], default="auto",
                   help="plotly.js bundle to inline: basic (1.1 MB, fetched by make install), full (4.8 MB, "
                        "from the plotly package), auto = basic when fetched (default)")
    p.set_defaults(run=_run)


def _run(args) -> int:
    from r1lab.errors import UserError
    from r1lab.tracking.report import DEFAULT_SAMPLE_BUDGET_MB, write_report  # plotly loads only here

    budget = args.sample_mb if args.sample_mb is not None else DEFAULT_SAMPLE_BUDGET_MB
    if budget <= 0:
        raise UserError(f"--sample-mb must be > 0, got {budget}")
    path = write_report(args.paths, Path(args.out) if args.out else default_out(args.paths),
                        sample_budget_mb=budget, bundle=args.plotly)
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB; open it in any browser, no network needed)")
    return 0
