"""The config schema, checked the way the workflow checks it (snakemake.utils.validate)."""

import pytest
from conftest import REPO
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMA = str(REPO / "enhancement" / "config.schema.yaml")


def config(**overrides):
    base = {
        "data_root": "d",
        "datasets": ["dev"],
        "devices": ["aria"],
        "work_dir": "w",
        "enhancement_name": "passthrough",
    }
    return {**base, **overrides}


@pytest.mark.parametrize("name", ["passthrough", "my_system.v2", "Sys-1", "_x", "a.b-c_d"])
def test_system_names_that_make_plain_folder_names_are_accepted(name):
    validate(config(enhancement_name=name, compare_systems=[name]), SCHEMA)


@pytest.mark.parametrize("name", ["..", ".", "a..b", ".hidden", "-rf", "a/b", "", "x y", "é"])
@pytest.mark.parametrize("key", ["enhancement_name", "compare_systems"])
def test_names_that_are_not_plain_folder_names_are_refused_naming_the_key(name, key):
    value = [name] if key == "compare_systems" else name
    with pytest.raises(WorkflowError, match=rf"{key}"):
        validate(config(**{key: value}), SCHEMA)
