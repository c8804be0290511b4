import os
import textwrap
from pathlib import Path

import pytest
from conftest import GAIN_PLUGIN

from enhancement.registry import enhancement_options, enhancement_sources
from enhancement.systems.plugins import BUILTIN_PLUGIN_DIR, PluginError, load_plugins, plugin_dirs


def make_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "my_plugins"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def test_repo_folder_always_searched_and_env_adds_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    dirs = plugin_dirs({"ECHIPLUGINS": f"{a}/:{b}"})
    assert dirs == [BUILTIN_PLUGIN_DIR, a.resolve(), b.resolve()]
    # The repo's own folder named again is not imported twice.
    assert plugin_dirs({"ECHIPLUGINS": str(BUILTIN_PLUGIN_DIR)}) == [BUILTIN_PLUGIN_DIR]


def test_missing_env_folder_is_an_error(tmp_path):
    with pytest.raises(PluginError, match="ECHIPLUGINS names .*nothere.*not a folder"):
        plugin_dirs({"ECHIPLUGINS": str(tmp_path / "nothere")})


@pytest.mark.parametrize("spelling", ["absolute", "trailing_slash", "relative"])
def test_plugins_import_from_any_spelling_of_the_folder(tmp_path, clean_registry, spelling, monkeypatch):
    name = f"plugin_{spelling}"
    folder = make_folder(
        tmp_path,
        {
            "single.py": GAIN_PLUGIN.format(name=name),
            # a package plugin using a relative import
            "pkg/__init__.py": "from .impl import Impl\n",
            "pkg/impl.py": GAIN_PLUGIN.format(name=name + "_pkg").replace("class Plugin", "class Impl"),
            "_private.py": "raise RuntimeError('must not be imported')\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    given = {"absolute": str(folder), "trailing_slash": f"{folder}/", "relative": "my_plugins"}[spelling]
    load_plugins(plugin_dirs({"ECHIPLUGINS": given}))
    assert enhancement_options[name](2.0).gain == 2.0
    assert name + "_pkg" in enhancement_options
    assert enhancement_sources[name] == str(folder / "single.py")
    assert str(tmp_path) not in os.sys.path


def test_syntax_error_names_file_and_line(tmp_path, clean_registry):
    folder = make_folder(tmp_path, {"bad.py": "x = 1\ndef broken(:\n"})
    with pytest.raises(PluginError, match=rf"{folder / 'bad.py'} failed to import at {folder / 'bad.py'}:2"):
        load_plugins([folder])


def test_import_error_names_file_and_line(tmp_path, clean_registry):
    folder = make_folder(tmp_path, {"needs.py": "import os\n\nimport no_such_module_xyz\n"})
    with pytest.raises(PluginError, match=r"needs.py:3: ModuleNotFoundError"):
        load_plugins([folder])


def test_duplicate_names_across_plugins(tmp_path, clean_registry):
    folder = make_folder(tmp_path, {"one.py": GAIN_PLUGIN.format(name="dup"), "two.py": GAIN_PLUGIN.format(name="dup")})
    with pytest.raises(PluginError, match=r"two.py.*registered twice.*one.py.*two.py"):
        load_plugins([folder])


def test_repo_example_plugin_registers_example(clean_registry):
    load_plugins([BUILTIN_PLUGIN_DIR])
    assert "example" in enhancement_options


def test_a_package_installed_without_its_clone_says_how_to_find_the_workflow(tmp_path):
    """A plain (non-editable) install has no enhance_args/ or enhancement_plugins/ beside
    it: before, the repo's systems were silently missing; now the error says what to do."""
    import shutil
    import subprocess
    import sys

    from enhancement.systems.plugins import REPO_ROOT

    site = tmp_path / "site-packages"
    shutil.copytree(REPO_ROOT / "enhancement", site / "enhancement", ignore=shutil.ignore_patterns("__pycache__"))
    probe = "from enhancement.systems.plugins import plugin_dirs; print(plugin_dirs({}))"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site)}
    alone = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert alone.returncode != 0
    assert "is not a clone of the ECHI enhancement workflow" in alone.stderr
    assert "pip install -e ." in alone.stderr and "ECHI_WORKFLOW_DIR" in alone.stderr
    told = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**env, "ECHI_WORKFLOW_DIR": str(REPO_ROOT)},
        cwd=tmp_path,
    )
    assert told.returncode == 0 and str(REPO_ROOT / "enhancement_plugins") in told.stdout
