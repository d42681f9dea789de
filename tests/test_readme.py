"""The README stays true: its config example parses, its architecture sketch names real files."""

import re
import tomllib
from pathlib import Path

from rtm_core.config import parse_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_config_example_is_a_valid_config():
    block = README.split("```toml", 1)[1].split("```", 1)[0]
    config = parse_config(tomllib.loads(block), file="README.md", base=ROOT)
    assert config.generators[0].bandwidths == (50, 100, 200, 400, 800)
    assert config.report.include_incidents is False


def test_architecture_sketch_names_files_that_exist():
    sketch = README.split("## Architecture", 1)[1].split("## ", 1)[0]
    names = re.findall(r"^\s*([\w/]+\.py|[\w/]+/)\s", sketch, flags=re.MULTILINE)
    assert len(names) > 15
    for name in names:
        candidates = [ROOT / name, ROOT / "rtm_core" / name]
        assert any(p.exists() for p in candidates), name


def test_the_two_commands_are_documented():
    assert "make run" in README and "make test" in README
