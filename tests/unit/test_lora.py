"""LoRA for GRPO: the generators' merged copy decodes exactly what the adapted model computes, shares
every tensor LoRA leaves alone, and follows the adapters after each update; the KL reference is the
frozen base at no memory cost."""

import pytest
import torch

pytest.importorskip("peft")

from r1lab.config import LoraSection  # noqa: E402
from r1lab.errors import ConfigError  # noqa: E402
from r1lab.models.loading import load_model  # noqa: E402
from r1lab.models.lora import MergedModel, apply_lora, plain_copy  # noqa: E402


@pytest.fixture()
def adapted(tiny_qwen2):
    torch.manual_seed(0)
    model, _ = load_model(tiny_qwen2)
    peft_model = apply_lora(model, LoraSection(enabled=True, r=4, alpha=8.0, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # lora_B starts at zero: give the adapters something to say
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    return peft_model.eval()


def logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_merged_copy_is_the_adapted_model_and_shares_the_frozen_tensors(adapted):
    ids = torch.randint(0, 300, (2, 12))
    merged = MergedModel(adapted)
    assert not any(hasattr(m, "lora_A") for m in merged.model.modules()), "a plain model, no peft layers"
    torch.testing.assert_close(logits(merged.model, ids), logits(adapted, ids), rtol=1e-5, atol=1e-5)
    base = adapted.get_base_model()
    plain = merged.model
    assert plain.model.embed_tokens.weight is base.model.embed_tokens.weight  # shared
    assert plain.model.layers[0].mlp.up_proj.weight is base.model.layers[0].mlp.up_proj.weight
    q_plain, q_base = plain.model.layers[0].self_attn.q_proj.weight, base.model.layers[0].self_attn.q_proj
    assert q_plain is not q_base.base_layer.weight  # its own tensor, holding base + delta
    # After an update of the adapters, refresh() follows; the frozen base never moves.
    frozen = q_base.base_layer.weight.clone()
    with torch.no_grad():
        for name, p in adapted.named_parameters():
            if "lora_A" in name:
                p.add_(0.1)
    merged.refresh()
    torch.testing.assert_close(logits(merged.model, ids), logits(adapted, ids), rtol=1e-5, atol=1e-5)
    assert torch.equal(q_base.base_layer.weight, frozen)


def test_reference_is_the_base_without_a_copy(adapted):
    ids = torch.randint(0, 300, (2, 12))
    ref = plain_copy(adapted, share_adapted=True)
    with adapted.disable_adapter():
        expected = logits(adapted, ids)
    torch.testing.assert_close(logits(ref, ids), expected)
    base = adapted.get_base_model()
    assert ref.model.layers[0].self_attn.q_proj.weight is base.model.layers[0].self_attn.q_proj.base_layer.weight


def test_unknown_target_modules_name_the_key(tiny_qwen2):
    model, _ = load_model(tiny_qwen2)
    with pytest.raises(ConfigError, match="lora.target_modules"):
        apply_lora(model, LoraSection(enabled=True, target_modules=["query_key_value"]))
