"""Every shipped GRPO recipe in configs/ loads into its typed config (a typo there would only show
up when a user runs it)."""

from pathlib import Path

import pytest

from r1lab.config import ZeroConfig, load_config

ROOT = Path(__file__).parents[2]
RECIPES = sorted(
    p for folder in (ROOT / "configs", ROOT / "r1lab" / "recipes") for p in folder.glob("*.yaml")
    if not p.name.startswith("pipeline")
)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_validates(path):
    cfg = load_config(ZeroConfig, path)
    assert cfg.steps > 0


def test_there_are_recipes():
    assert RECIPES
