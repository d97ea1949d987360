import pytest


@pytest.fixture(scope="session")
def tiny_r1(tmp_path_factory):
    """A random model of the tiny base architecture (hidden 64, 2 layers) with tiny-base's tokenizer, trained on a small
    corpus sample: the think/answer tags are ordinary tokens, so decoded completions keep them
    (random_init's tokenizer makes them special, and decoding drops them)."""
    import torch
    from transformers import AutoModelForCausalLM

    from r1lab.models.corpus import make_corpus
    from r1lab.models.tiny_base import BaseBuildConfig, model_config, train_tokenizer

    out = tmp_path_factory.mktemp("tiny-r1")
    tokenizer = train_tokenizer([d.text for d in make_corpus(300, seed=0)], vocab_size=400)
    cfg = BaseBuildConfig(hidden_size=64, layers=2, heads=4, kv_heads=2, intermediate_size=128)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(model_config(cfg, tokenizer)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)
