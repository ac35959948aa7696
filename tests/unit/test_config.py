from pathlib import Path

import pytest

from earlywarn.config import Config, config_hash, load_config
from earlywarn.errors import ConfigError
from earlywarn.resources import RESOURCES

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = {
    "train.yaml": CONFIGS / "train.yaml",
    "train-large.yaml": CONFIGS / "train-large.yaml",
    "demo.yaml": RESOURCES / "demo.yaml",
}


def test_a_typo_in_a_config_fails_and_names_the_key(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("tune:\n  n_trails: 5\npolicy:\n  share: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"2 problems in config") as caught:
        load_config(path)
    assert "tune.n_trails" in str(caught.value) and "policy.share" in str(caught.value)


def test_bad_yaml_and_missing_files_are_config_errors(tmp_path):
    (tmp_path / "bad.yaml").write_text("tune: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid UTF-8 YAML"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(tmp_path / "list.yaml")


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_configs_load(name):
    assert isinstance(load_config(SHIPPED[name]), Config)


def test_config_hash_changes_with_the_config():
    assert config_hash(Config()) == config_hash(load_config(None))
    changed = Config.model_validate({"tune": {"seed": 1}})
    assert config_hash(changed) != config_hash(Config())
