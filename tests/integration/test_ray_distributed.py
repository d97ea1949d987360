"""Scale-out on a real local Ray cluster: rollout workers reproduce the one-process run, a worker
killed with SIGKILL mid-step is replaced and its prompts redone, async rollouts are tagged, filtered
and corrected, data-parallel trainer ranks take the whole batch's step and stay identical.

One cluster for the module (4 logical CPUs on whatever cores there are: 2 rollout workers and 2
trainer ranks each ask for one), tiny models, a few steps. Ray's processes are children of this one
and end with ray.shutdown() in the fixture."""

from __future__ import annotations

import copy
import json
import math
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
import torch

ray = pytest.importorskip("ray")

from r1lab.config import ZeroConfig  # noqa: E402
from r1lab.distributed.rollout import split_shares, too_stale  # noqa: E402
from r1lab.distributed.trainer import DataParallelTrainer  # noqa: E402
from r1lab.errors import ConfigError  # noqa: E402
from r1lab.grpo.rollout import behaviour_logprobs, merge_rollouts  # noqa: E402
from r1lab.grpo.setup import build_setup, sampler_is_policy  # noqa: E402
from r1lab.grpo.sources import LocalRolloutSource, rollout_source  # noqa: E402
from r1lab.models.templates import R1_ZERO_TEMPLATE  # noqa: E402
from r1lab.rl.update import UpdateSettings, grpo_update  # noqa: E402
from r1lab.stages.zero import run as run_zero  # noqa: E402
from r1lab.tasks.demo import DemoTask  # noqa: E402

COMPARED = ["reward_mean", "accuracy", "response_length_mean", "completion_tokens", "truncated_rate",
            "reward/format", "loss", "grad_norm", "entropy"]


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def format_model(tmp_path_factory) -> str:
    """A 1-layer Qwen2 taught, in a few seconds, to answer in the think/answer format half of the
    time: rewards then differ within a group, so the advantages and the updates are not zero and
    each step's rollouts depend on the weights the workers were sent."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from r1lab.models.tiny_base import train_tokenizer

    rng = random.Random(0)
    texts = []
    for p in DemoTask().problems("train", 200, seed=0):
        guess = p.answer if rng.random() < 0.3 else rng.randint(0, 199)
        body = f" <think> ok </think> <answer> {guess} </answer>" if rng.random() < 0.5 else f" <answer> {guess} </answer>"
        texts.append(R1_ZERO_TEMPLATE.format(question=p.question) + body)
    tok = train_tokenizer(texts, 320)
    ids = [t + [tok.eos_token_id] for t in tok(texts, add_special_tokens=False)["input_ids"]]
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=len(tok), hidden_size=48, intermediate_size=96, num_hidden_layers=1, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True, bos_token_id=None,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(80):
        batch = rng.sample(ids, 16)
        x = torch.full((16, max(map(len, batch))), tok.pad_token_id)
        mask = torch.zeros_like(x)
        for i, seq in enumerate(batch):
            x[i, :len(seq)], mask[i, :len(seq)] = torch.tensor(seq), 1
        loss = model(input_ids=x, attention_mask=mask, labels=x.masked_fill(mask == 0, -100)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = tmp_path_factory.mktemp("format-model")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


def make_cfg(model: str, steps: int = 3, **distributed) -> ZeroConfig:
    return ZeroConfig(model=model, task="demo", steps=steps, prompts_per_step=4, samples_per_prompt=4,
                      max_new_tokens=24, micro_batch_size=16, learning_rate=1e-3, train_problems=50,
                      eval_problems=4, save_every=0, log_samples_per_step=0, report_to=[],
                      distributed=distributed)


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def assert_same_metrics(expected: list[dict], got: list[dict], rel: float = 1e-5) -> None:
    assert [r["step"] for r in got] == [r["step"] for r in expected]
    for a, b in zip(expected, got):
        for key in COMPARED:
            if a[key] is None:  # a NaN statistic (nothing was trained on at that step), logged as null
                assert b[key] is None, (a["step"], key)
            else:
                assert b[key] == pytest.approx(a[key], rel=rel, abs=1e-6), (a["step"], key)


def assert_same_rollout(expected, got, group_size: int = 4) -> None:
    """Same prompts in the same order, each with exactly G completions, token for token."""
    assert [p.id for p in got.problems] == [p.id for p in expected.problems]
    assert len(got.completions) == len(expected.completions) == len(expected.problems) * group_size
    assert [c.prompt_index for c in got.completions] == [i for i in range(len(got.problems)) for _ in range(group_size)]
    assert [c.token_ids for c in got.completions] == [c.token_ids for c in expected.completions]
    assert got.rewards == expected.rewards


# ------------------------------------------------------------------------------ killing a worker
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def our_rollout_workers() -> list[int]:
    """Rollout worker processes of this test's own Ray cluster (descendants of this process)."""
    tree, todo, found = _children(), [os.getpid()], []
    while todo:
        for child in tree.get(todo.pop(), []):
            todo.append(child)
            if _title(child).startswith("ray::RolloutWorker"):
                found.append(child)
    return found


class Killer(threading.Thread):
    """SIGKILLs the first of our rollout workers seen generating ("ray::RolloutWorker.rollout" is the
    title Ray gives an actor process while it runs that method), once `armed()` is true."""

    def __init__(self, armed=lambda: True):
        super().__init__(daemon=True)
        self.armed, self.killed, self.done = armed, None, threading.Event()

    def run(self) -> None:
        deadline, workers, refreshed = time.time() + 180, [], 0.0
        while not self.done.is_set() and time.time() < deadline:
            if time.time() - refreshed > 0.5:
                workers, refreshed = our_rollout_workers(), time.time()
            if self.armed():
                for pid in workers:
                    if _title(pid).startswith("ray::RolloutWorker.rollout"):
                        os.kill(pid, signal.SIGKILL)
                        self.killed = pid
                        return
            time.sleep(0.002)


# ----------------------------------------------------------------------------------------- tests
def test_shares_and_staleness_rules():
    assert split_shares(5, 2) == [(0, 3), (3, 5)]
    assert split_shares(2, 3) == [(0, 1), (1, 2)]  # a worker with no prompt gets no call
    assert too_stale(3, 4, 1) is False and too_stale(2, 4, 1) is True and too_stale(4, 4, 0) is False


@pytest.fixture(scope="module")
def local_rows(format_model, tmp_path_factory) -> list[dict]:
    run_dir = tmp_path_factory.mktemp("local")
    run_zero(make_cfg(format_model, steps=4), run_dir, progress=False)
    rows = metrics(run_dir)
    assert any(r["grad_norm"] > 0 for r in rows), "the test model must get a learning signal"
    return rows


def test_source_reproduces_local_survives_sigkill_and_syncs_weights(ray_cluster, format_model):
    cfg = make_cfg(format_model, backend="ray", rollout_workers=2)
    s = build_setup(cfg)
    local = LocalRolloutSource(s, version=0)
    source = rollout_source(s, version=0)
    try:
        assert_same_rollout(local.collect(0), source.collect(0))

        killer = Killer()
        killer.start()
        got = source.collect(1)  # one worker dies while it generates its half
        killer.done.set()
        killer.join()
        assert killer.killed is not None
        assert source.stats()["rollout/worker_restarts"] == 1
        assert_same_rollout(local.collect(1), got)  # redone in full, nothing lost or doubled

        # New weights, version 1: the workers must sample what the (shared-model) local source does.
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in s.model.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=gen))
        local.push_weights(s.model, 1)
        source.push_weights(s.model, 1)
        got = source.collect(2)
        assert_same_rollout(local.collect(2), got)
        assert {c.policy_version for c in got.completions} == {1}
    finally:
        source.shutdown()


def test_run_with_two_workers_matches_local_survives_sigkill_and_resumes(ray_cluster, format_model,
                                                                         local_rows, tmp_path):
    metrics_path = tmp_path / "metrics.jsonl"

    def in_step_two() -> bool:
        return metrics_path.exists() and len(metrics_path.read_text().splitlines()) >= 1

    killer = Killer(armed=in_step_two)
    killer.start()
    run_zero(make_cfg(format_model, steps=3, backend="ray", rollout_workers=2), tmp_path, progress=False)
    killer.done.set()
    killer.join()
    assert killer.killed is not None
    rows = metrics(tmp_path)
    assert sum(r["rollout/worker_restarts"] for r in rows) == 1
    assert_same_metrics(local_rows[:3], rows)  # same samples, same updates: nothing lost or doubled
    deadline = time.time() + 30
    while our_rollout_workers() and time.time() < deadline:  # ray.kill is asynchronous
        time.sleep(0.2)
    assert our_rollout_workers() == [], "the run's workers are gone"

    # The checkpoint keeps the run resumable: step 4 on new workers is the local run's step 4.
    run_zero(make_cfg(format_model, steps=4, backend="ray", rollout_workers=2), tmp_path, resume=True,
             progress=False)
    assert_same_metrics(local_rows, metrics(tmp_path))


PREFIXED_TASK = """
from r1lab.tasks import load_task


class Prefixed:
    \"\"\"The demo task with a prefix before every question: a task option that changes the prompts.\"\"\"

    def __init__(self, prefix):
        self.inner, self.prefix = load_task("demo"), prefix
        self.name, self.chat_instruction = "prefixed-demo", self.inner.chat_instruction

    def problems(self, split, n, seed):
        return self.inner.problems(split, n, seed)

    def prompt(self, problem):
        return self.prefix + self.inner.prompt(problem)

    def extract(self, response):
        return self.inner.extract(response)

    def verify(self, problem, response):
        return self.inner.verify(problem, response)

    def verify_many(self, problems, responses):
        return self.inner.verify_many(problems, responses)

    def equivalent(self, a, b):
        return self.inner.equivalent(a, b)


def make_task(spec, prefix=""):
    return Prefixed(prefix)
"""


def test_a_task_option_reaches_the_workers(ray_cluster, format_model, tmp_path, monkeypatch):
    """Issue 12: workers once built the task without task_options, so two workers no longer
    reproduced the local run. A user's task file (given by a relative path) with an option that
    changes every prompt: the Ray run must match the local run, and differ from the run without it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prefixed.py").write_text(PREFIXED_TASK)

    def cfg(backend: str, prefix: str) -> ZeroConfig:
        workers = {"backend": backend, "rollout_workers": 2} if backend == "ray" else {}
        return make_cfg(format_model, steps=2, **workers).model_copy(
            update={"task": "prefixed.py", "task_options": {"prefix": prefix}})

    run_zero(cfg("local", "Quick: "), tmp_path / "local", progress=False)
    run_zero(cfg("ray", "Quick: "), tmp_path / "ray", progress=False)
    run_zero(cfg("local", ""), tmp_path / "plain", progress=False)
    assert_same_metrics(metrics(tmp_path / "local"), metrics(tmp_path / "ray"))
    plain, local = metrics(tmp_path / "plain"), metrics(tmp_path / "local")
    assert any(a["completion_tokens"] != b["completion_tokens"] for a, b in zip(plain, local)), \
        "the option must change the samples, or this test could not catch a dropped option"


def test_async_rollouts_with_data_parallel_trainers(ray_cluster, format_model, local_rows, tmp_path):
    cfg = make_cfg(format_model, steps=3, backend="ray", rollout_workers=2, trainer_workers=2, max_staleness=1)
    run_zero(cfg, tmp_path, progress=False)
    rows = metrics(tmp_path)
    assert [r["step"] for r in rows] == [1, 2, 3]
    # Step 1 is on-policy (nothing to overlap yet); later steps were sampled one version back.
    assert [r["rollout/staleness_max"] for r in rows] == [0, 1, 1]
    assert_same_metrics(local_rows[:1], rows[:1], rel=1e-4)  # two ranks sum to the whole-batch step
    for r in rows[1:]:
        assert math.isfinite(r["loss"])
        assert r["ratio_mean"] != pytest.approx(1.0, abs=1e-7), "the off-policy ratio is in the loss"
    assert all(r["rollout/stale_dropped"] == 0 for r in rows)


def test_too_stale_shares_are_dropped_and_redone(ray_cluster, format_model):
    cfg = make_cfg(format_model, steps=3, backend="ray", rollout_workers=1, max_staleness=1)
    s = build_setup(cfg)
    source = rollout_source(s, version=0)
    try:
        first = source.collect(0)  # and step 1 starts on version 0
        assert behaviour_logprobs(first.completions, 0, sampler_is_policy(s)) is None  # on-policy: no correction
        assert all(c.logprobs is not None and len(c.logprobs) == len(c.token_ids) for c in first.completions)
        source.push_weights(s.model, 3)  # three versions on: step 1's prefetched samples are too old
        second = source.collect(1)
        stats = source.stats()
        assert stats["rollout/stale_dropped"] == len(second.completions) == 16
        assert stats["rollout/staleness_max"] == 0 and {c.policy_version for c in second.completions} == {3}
    finally:
        source.shutdown()


@pytest.mark.filterwarnings("ignore:Seems like `optimizer.step")  # the deep-copied reference scheduler
def test_data_parallel_update_is_the_whole_batch_update(ray_cluster, tiny_qwen2):
    """Two gloo ranks, each with half the sequences, take the single-process step on the whole batch,
    and their weights stay bit-identical; the optimizer state comes back for checkpoints."""
    from r1lab.models.loading import load_model

    model, tok = load_model(tiny_qwen2, "float32")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 2))
    start = [p.detach().clone() for p in model.parameters()]
    rng = random.Random(0)
    prompts = [[rng.randrange(10, 300) for _ in range(rng.randint(3, 9))] for _ in range(8)]
    completions = [[rng.randrange(10, 300) for _ in range(rng.randint(1, 12))] for _ in range(8)]
    advantages = torch.tensor([rng.uniform(-1, 1) for _ in range(8)])
    weights = torch.ones(8)
    weights[3] = 0
    settings = UpdateSettings(loss_type="dapo", clip_low=0.2, clip_high=0.28, beta=0.0, iterations=2,
                              micro_batch_size=3, max_new_tokens=12, temperature=1.0, max_grad_norm=1.0)
    ref_model, ref_opt, ref_sched = copy.deepcopy((model, opt, sched))
    dist = ZeroConfig(distributed={"backend": "ray", "trainer_workers": 2}).distributed
    ranks = DataParallelTrainer(dist, model, opt, sched, None, settings, tok.pad_token_id)
    try:
        for _ in range(2):
            expected = grpo_update(ref_model, ref_opt, ref_sched, prompts, completions, advantages, weights,
                                   settings, tok.pad_token_id)
            got = ranks.update(prompts, completions, advantages, weights, model=model, scheduler=sched)
            for key in ("loss", "grad_norm", "ratio_mean", "entropy"):
                assert got[key] == pytest.approx(expected[key], rel=1e-4), key
        a, b = ranks.checksums()
        assert a == b, "ranks' weights diverged"
        # Adam moves every weight by about lr per step whatever the gradient's size, so float-level
        # differences in tiny gradients show at a small fraction of lr.
        for p, q in zip(model.parameters(), ref_model.parameters()):
            torch.testing.assert_close(p, q, atol=2e-4, rtol=0)
        assert max(float((p.detach() - p0).abs().max()) for p, p0 in zip(model.parameters(), start)) > 1e-3
        ranks.pull_optimizer(opt, sched)
        assert sched.last_epoch == ref_sched.last_epoch
        exp_avg = [opt.state[p]["exp_avg"] for p in model.parameters()]
        ref_avg = [ref_opt.state[p]["exp_avg"] for p in ref_model.parameters()]
        for x, y in zip(exp_avg, ref_avg):
            torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-3)
    finally:
        ranks.shutdown()


def test_bad_combinations_name_the_key(format_model, tmp_path):
    with pytest.raises(ConfigError, match="distributed.backend"):
        run_zero(make_cfg(format_model, steps=1, rollout_workers=2), tmp_path, progress=False)


def test_merge_renumbers_prompt_indices():
    from r1lab.types import Completion, Problem, Rollout, Verdict

    def part(ids: list[str]) -> Rollout:
        comps = [Completion(prompt_index=i // 2, token_ids=[i], text="", finish_reason="stop") for i in range(2 * len(ids))]
        return Rollout(problems=[Problem(id=x, question="", answer=0) for x in ids], prompt_ids=[[1]] * len(ids),
                       completions=comps, rewards=[0.0] * len(comps), reward_components={"format": [0.0] * len(comps)},
                       verdicts=[Verdict("incorrect", 0.0, None)] * len(comps))

    merged = merge_rollouts([part(["a", "b"]), part(["c"])])
    assert [p.id for p in merged.problems] == ["a", "b", "c"]
    assert [c.prompt_index for c in merged.completions] == [0, 0, 1, 1, 2, 2]
    assert len(merged.reward_components["format"]) == 6
