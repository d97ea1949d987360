"""`r1lab pipeline FILE.yaml`: stages chained from one file, resumable stage by stage.

A pipeline file:

    out: runs/my-pipeline          # optional; --out wins
    stages:
      - name: zero                 # unique; the stage's directory is OUT/zero
        stage: zero                # which command runs (see KINDS)
        config: {model: tiny-base, steps: 60}
      - name: cold_start
        stage: sample
        config: {model: "${zero.model}", n: 4}

`${NAME.OUTPUT}` (a whole string value) is the named output of an earlier stage: a path that is known
before anything runs (KINDS lists each kind's outputs). Everything is checked before any work starts:
stage kinds, unique names, each config against its typed schema (unknown keys, wrong types), every
reference (an earlier stage, an output that kind has) and every input file or model directory that
no stage makes. The first problem found is reported with the stage and key.

Resume: a finished stage leaves OUT/NAME/stage.json with a fingerprint of its kind, its resolved
config and the fingerprints of the stages it reads from. A rerun skips a stage whose fingerprint
matches (so changing a stage reruns it and everything downstream of it); an interrupted stage reruns,
continuing from its last checkpoint when the kind keeps one (zero, rl), else from scratch.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from r1lab.config import Strict, build_config, load_yaml
from r1lab.errors import ConfigError, ModelNotFoundError, UserError
from r1lab.models.checkpoint import find_latest
from r1lab.models.loading import BUILTIN, resolve_model

REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_]+)\}$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
MARKER = "stage.json"


@dataclass(frozen=True)
class Kind:
    """A stage kind: its module (which has `Config` and `run(cfg, run_dir, resume)`, the contract every
    stage keeps) and what the pipeline must know about it before anything runs."""

    module: str
    outputs: dict[str, str]  # output name -> path relative to the stage directory
    models: tuple[str, ...] = ()  # dotted config keys naming a model (dir, built-in or hub id)
    files: tuple[str, ...] = ()  # dotted config keys naming input files ("" = unset)
    resumable: bool = False  # keeps checkpoints (r1lab.models.checkpoint) and continues from the latest

    def stage(self):
        return importlib.import_module(self.module)


MODEL = {"model": "final_model"}
KINDS: dict[str, Kind] = {
    "demo_data": Kind("r1lab.stages.demo_data", {"prompts": "prompts.jsonl", "pairs": "pairs.jsonl", "sft": "sft.jsonl"}),
    "base": Kind("r1lab.stages.base", MODEL),
    "zero": Kind("r1lab.stages.zero", MODEL, models=("model",), files=("task",), resumable=True),
    "sample": Kind("r1lab.stages.sample", {"data": "data.jsonl"}, models=("model",), files=("task", "few_shot_data")),
    "sft": Kind("r1lab.stages.sft", MODEL, models=("model",), files=("data",)),
    "rm": Kind("r1lab.stages.rm", MODEL, models=("model",), files=("pairs",)),
    "rl": Kind("r1lab.stages.rl", MODEL, models=("grpo.model", "reward_model.path"),
               files=("grpo.task", "general_prompts"), resumable=True),
    "distill": Kind("r1lab.stages.distill", {"model": "student/final_model", "data": "traces/data.jsonl"},
                    models=("teacher", "student")),
    "compare": Kind("r1lab.stages.compare", {"table": "table.json"}, models=("models",), files=("task",)),
    "eval": Kind("r1lab.stages.eval", {"summary": "summary.json", "samples": "samples.jsonl"}, models=("model",)),
}


# ------------------------------------------------------------------------------------------- plan
@dataclass
class Stage:
    name: str
    kind: str
    config: BaseModel
    raw: dict  # the config with references resolved to paths (what the fingerprint covers)
    reads: list[str]  # names of the stages it references
    dir: Path


class PipelineFile(Strict):
    out: str = ""
    description: str = ""
    stages: list[dict[str, Any]]


class StageEntry(Strict):
    name: str
    stage: str
    config: dict[str, Any] = Field(default_factory=dict)


def _resolve_refs(value: Any, where: str, known: dict[str, dict[str, Path]], reads: list[str]) -> Any:
    """Replace ${stage.output} strings with the output's planned path."""
    if isinstance(value, dict):
        return {k: _resolve_refs(v, f"{where}.{k}", known, reads) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, f"{where}[{i}]", known, reads) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        m = REF_RE.match(value)
        if not m:
            raise ConfigError(f"{where}: malformed reference {value!r} (expected ${{stage.output}})")
        stage, output = m.groups()
        if stage not in known:
            raise ConfigError(f"{where}: {value!r} refers to stage '{stage}', which is not an earlier stage")
        if output not in known[stage]:
            raise ConfigError(f"{where}: stage '{stage}' has no output '{output}' "
                              f"(it has: {', '.join(sorted(known[stage]))})")
        reads.append(stage)
        return str(known[stage][output])
    return value


def _get(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _check_inputs(kind: Kind, raw: dict, made: set[str], where: str) -> None:
    """Input files and model directories that no earlier stage makes must exist now."""
    for key in kind.files:
        for value in _values(_get(raw, key)):
            looks_like_file = value and ("/" in value or value.endswith((".jsonl", ".json", ".parquet")))
            if looks_like_file and value not in made and not Path(value).exists():
                raise ConfigError(f"{where}.{key}: input file not found: {value}")
    for key in kind.models:
        for value in _values(_get(raw, key)):
            if not value or value in made or value == "smollm2-135m":  # converted on first use, not here
                continue
            try:
                if value in BUILTIN or Path(value).expanduser().exists() or value.startswith((".", "/", "~")):
                    resolve_model(value)
            except ModelNotFoundError as err:
                raise ConfigError(f"{where}.{key}: {err}") from None


def _values(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    if isinstance(v, dict):
        return [x for x in v.values() if isinstance(x, str)]
    return []


def plan(spec: dict, out: Path, source: str) -> list[Stage]:
    """Validate the whole file and resolve references; nothing runs."""
    top = build_config(PipelineFile, spec, source)
    if not top.stages:
        raise ConfigError(f"{source}: 'stages' is empty")
    known: dict[str, dict[str, Path]] = {}
    made: set[str] = set()
    stages = []
    for i, entry_data in enumerate(top.stages):
        where = f"{source}: stages[{i}]"
        entry = build_config(StageEntry, entry_data if isinstance(entry_data, dict) else {}, where)
        where = f"{source}: stage '{entry.name}'"
        if not NAME_RE.match(entry.name):
            raise ConfigError(f"{where}: a name is letters, digits, '_' and '-', starting with a letter")
        if entry.name in known:
            raise ConfigError(f"{where}: the name is used twice")
        if entry.stage not in KINDS:
            raise ConfigError(f"{where}: unknown stage '{entry.stage}' (known: {', '.join(KINDS)})")
        kind = KINDS[entry.stage]
        reads: list[str] = []
        raw = _resolve_refs(entry.config, f"{where} config", known, reads)
        config = build_config(kind.stage().Config, raw, f"{where} config")
        _check_inputs(kind, raw, made, f"{where} config")
        stage_dir = out / entry.name
        outputs = {name: stage_dir / rel for name, rel in kind.outputs.items()}
        known[entry.name] = outputs
        made |= {str(p) for p in outputs.values()}
        stages.append(Stage(entry.name, entry.stage, config, raw, sorted(set(reads)), stage_dir))
    return stages


# -------------------------------------------------------------------------------------------- run
def fingerprint(stage: Stage, prints: dict[str, str]) -> str:
    blob = json.dumps({"kind": stage.kind, "config": stage.config.model_dump(mode="json"),
                       "reads": {r: prints[r] for r in stage.reads}}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_pipeline(spec: dict, out: Path, source: str, log=print) -> dict[str, dict]:
    out = Path(out)
    stages = plan(spec, out, source)
    out.mkdir(parents=True, exist_ok=True)
    prints: dict[str, str] = {}
    record: dict[str, dict] = {}
    for stage in stages:
        kind = KINDS[stage.kind]
        prints[stage.name] = fp = fingerprint(stage, prints)
        marker = stage.dir / MARKER
        if marker.exists() and json.loads(marker.read_text()).get("fingerprint") == fp:
            log(f"pipeline: stage '{stage.name}' ({stage.kind}) is done, skipped")
            record[stage.name] = json.loads(marker.read_text())
            continue
        resume = kind.resumable and find_latest(stage.dir / "checkpoints") is not None and not marker.exists()
        if stage.dir.exists() and not resume:
            shutil.rmtree(stage.dir)  # a stale or half-written stage starts clean
        stage.dir.mkdir(parents=True, exist_ok=True)
        log(f"pipeline: stage '{stage.name}' ({stage.kind}) {'resuming' if resume else 'running'}")
        t0 = time.perf_counter()
        kind.stage().run(stage.config, stage.dir, resume=resume, progress=True)
        done = {"stage": stage.kind, "fingerprint": fp, "wall_s": time.perf_counter() - t0,
                "outputs": {k: str(stage.dir / v) for k, v in kind.outputs.items()}}
        marker.write_text(json.dumps(done, indent=2) + "\n")
        record[stage.name] = done
        log(f"pipeline: stage '{stage.name}' done in {done['wall_s']:.0f} s")
    (out / "pipeline.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def demo_spec() -> tuple[dict, str]:
    text = resources.files("r1lab").joinpath("recipes/pipeline_demo.yaml").read_text()
    import yaml
    return yaml.safe_load(text), "r1lab/recipes/pipeline_demo.yaml"


def add_arguments(p) -> None:
    """The flags of `r1lab pipeline` (the CLI made the parser)."""
    p.add_argument("file", nargs="?", help="pipeline YAML file")
    p.add_argument("--demo", action="store_true", help="the embedded R1 recipe on the tiny base model")
    p.add_argument("--out", help="output directory (default: the file's 'out', or runs/pipeline-demo)")
    p.add_argument("--check", action="store_true", help="validate the file and exit")
    p.set_defaults(run=_run)


def write_pipeline_report(out: Path, record: dict) -> Path | None:
    """OUT/report.html over every GRPO stage (zero, rl), in pipeline order; None when there is none."""
    from r1lab.tracking.report import write_report

    runs = [out / name for name, done in record.items() if done["stage"] in ("zero", "rl")]
    return write_report(runs, out / "report.html") if runs else None


def _run(args) -> int:
    if bool(args.file) == bool(args.demo):
        raise UserError("give a pipeline FILE or --demo (one of them)")
    spec, source = demo_spec() if args.demo else (load_yaml(args.file), args.file)
    out = Path(args.out or spec.get("out") or "runs/pipeline-demo")
    if args.check:
        stages = plan(spec, out, source)
        print(f"{source}: {len(stages)} stages OK: " + " -> ".join(f"{s.name} ({s.kind})" for s in stages))
        return 0
    t0 = time.perf_counter()
    record = run_pipeline(spec, out, source)
    print(f"pipeline finished in {time.perf_counter() - t0:.0f} s; outputs in {out}")
    report = write_pipeline_report(out, record)
    if report:
        print(f"report: {report} (the training runs overlaid; open it in any browser)")
    from r1lab.stages.compare import format_table

    for name, done in record.items():  # every comparison table again, also when its stage was skipped
        if done["stage"] == "compare":
            table_path = Path(done["outputs"]["table"])
            print(f"\n{name}: {table_path}\n" + format_table(json.loads(table_path.read_text())))
            if args.demo:
                shutil.copy(table_path, out / "table.json")
                print(f"table: {out / 'table.json'}")
    return 0
