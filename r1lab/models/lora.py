"""LoRA adapters (Hu et al. 2021) through peft, for SFT and GRPO, and the merged model generators use.

Generation wants merged weights: decoding through the adapters costs two extra matmuls per adapted
layer and token. Merging in place and unmerging after each rollout (what peft's merge_adapter /
unmerge_adapter do) would round the frozen base weights a little every step. Instead `MergedModel`
keeps a plain copy of the architecture for generators that shares every tensor LoRA leaves alone
with the trained model (embeddings, norms, un-adapted layers: no second copy) and holds its own
tensor only for each adapted weight, recomputed as base + (alpha / r) * B @ A from the frozen base
whenever the adapters change (`refresh`). The generator, the held-out evals, a Ray weight push and
final_model/ all read that copy, so they see exactly the merged model, without peft.
"""

from __future__ import annotations

import copy

import torch

from r1lab.errors import ConfigError


def apply_lora(model, lora):
    """`model` with LoRA adapters on lora.target_modules (r1lab.config.LoraSection); only they train."""
    LoraConfig, get_peft_model = _peft()
    try:
        return get_peft_model(model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                                target_modules=list(lora.target_modules), task_type="CAUSAL_LM"))
    except ValueError as err:  # peft: "Target modules {...} not found in the base model"
        raise ConfigError(f"config key 'lora.target_modules': {str(err).splitlines()[0]}") from None


def load_lora(model, adapter_dir):
    """`model` with the trainable adapters saved in `adapter_dir` (a checkpoint of a LoRA run)."""
    from peft import PeftModel

    _peft()
    return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)


def _peft():
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ConfigError("lora.enabled needs peft: pip install 'r1lab[lora]'") from None
    return LoraConfig, get_peft_model


def _lora_layers(peft_model) -> list[tuple[str, torch.nn.Module]]:
    from peft.tuners.lora import LoraLayer

    return [(name, m) for name, m in peft_model.get_base_model().named_modules() if isinstance(m, LoraLayer)]


def plain_copy(peft_model, share_adapted: bool) -> torch.nn.Module:
    """The architecture without adapters, sharing every frozen tensor with `peft_model`. With
    share_adapted=False the adapted layers' weights are the copy's own (to hold merged values); with
    True they are shared too (the base model itself: the KL reference, at no memory cost)."""
    base = peft_model.get_base_model()
    layers = _lora_layers(peft_model)
    own = {id(m.get_base_layer().weight) for _, m in layers} if not share_adapted else set()
    memo = {id(t): t for t in list(base.parameters()) + list(base.buffers()) if id(t) not in own}
    plain = copy.deepcopy(base, memo)
    for name, _ in layers:  # each LoRA wrapper gives way to the layer it wraps
        parent_name, _, child = name.rpartition(".")
        parent = plain.get_submodule(parent_name) if parent_name else plain
        setattr(parent, child, getattr(parent, child).get_base_layer())
    plain.requires_grad_(False)
    return plain


class MergedModel:
    """A plain model with the adapters merged in, kept in step with the trained adapters."""

    def __init__(self, peft_model):
        self.peft_model = peft_model
        self.model = plain_copy(peft_model, share_adapted=False)
        self._pairs = [(m, self.model.get_submodule(name)) for name, m in _lora_layers(peft_model)]
        self.refresh()

    @torch.no_grad()
    def refresh(self) -> None:
        """Each adapted weight := its frozen base weight + the adapters' delta ((alpha / r) * B @ A)."""
        for lora_layer, plain_layer in self._pairs:
            base = lora_layer.get_base_layer().weight
            delta = sum(lora_layer.get_delta_weight(a) for a in lora_layer.active_adapters)
            plain_layer.weight.copy_(base + delta.to(base.dtype))
