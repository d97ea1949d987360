import os

import pytest
import torch

# Two cores shared by everything: keep torch from oversubscribing them in tests.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tests on tiny models: they gain nothing from a second thread,
    and on a shared 2-core machine a second OpenMP thread waiting for a busy core slows every small op
    down many times."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_qwen2(tmp_path_factory):
    from r1lab.models.random_init import build_random_model

    return str(build_random_model(tmp_path_factory.mktemp("tiny-qwen2"), arch="qwen2"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    from r1lab.models.random_init import build_random_model

    return str(build_random_model(tmp_path_factory.mktemp("tiny-llama"), arch="llama", seed=1))
