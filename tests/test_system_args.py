from pathlib import Path

import pytest

from enhancement.system_args import ARGS_DIR, ArgsError, build_system, check_args, find_args_yaml, load_args


class NeedsGain:
    def __init__(self, gain: float, offset: float = 0.0) -> None:
        self.gain, self.offset = gain, offset

    def process_session(self, *a, **k): ...


class TakesDevice:
    def __init__(self, torch_device: str = "cpu") -> None:
        self.torch_device = torch_device

    def process_session(self, *a, **k): ...


def yaml_file(tmp_path: Path, text: str, name: str = "sys.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_lookup_order_repo_then_plugin_folders_then_path(tmp_path):
    assert find_args_yaml("passthrough") == (ARGS_DIR / "passthrough.yaml").resolve()
    beside = yaml_file(tmp_path, "name: mine\nargs: {}\n", "mine.yaml")
    assert find_args_yaml("mine", [tmp_path]) == beside.resolve()
    assert find_args_yaml(str(beside)) == beside.resolve()


def test_missing_yaml_says_where_it_looked(tmp_path):
    with pytest.raises(ArgsError, match=r"no args yaml for enhance_args='ghost'(.|\n)*ghost.yaml"):
        find_args_yaml("ghost", [tmp_path])
    with pytest.raises(ArgsError, match="does not exist"):
        find_args_yaml(str(tmp_path / "ghost.yaml"))


def test_load_reads_rate_and_resources(tmp_path):
    args = load_args(yaml_file(tmp_path, "name: x\nargs: {gain: 2}\nsample_rate: 48000\nresources: {gpu: 1}\n"))
    assert (args.name, args.args, args.sample_rate, args.resources) == ("x", {"gain": 2}, 48000, {"gpu": 1})
    # any resource name passes through: placement keys of the SLURM executor among them
    placed = load_args(yaml_file(tmp_path, "name: x\nresources: {slurm_partition: gpu, slurm_extra: '--qos=high',"
                                           " constraint: h100, mem_mb: 8000, my_licence: 2}\n")).resources
    assert placed == {"slurm_partition": "gpu", "slurm_extra": "--qos=high", "constraint": "h100",
                      "mem_mb": 8000, "my_licence": 2}
    assert load_args(yaml_file(tmp_path, "name: x\n")).sample_rate == 16000


@pytest.mark.parametrize("text, expected", [
    ("name: x\nargs: [1, 2]\n", "'args' must be a mapping"),
    ("name: x\nargz: {}\n", r"unknown top-level key\(s\) \['argz'\]"),
    ("name: x\nsample_rate: fast\n", "'sample_rate' must be a positive integer"),
    ("name: [x\n", "is not valid YAML"),
    ("- 1\n", "must be a mapping"),
    ("name: x\nresources: [gpu]\n", "'resources' must be a mapping of resource names to values"),
    ("name: x\nresources: {gpu: -1}\n", r"resources.gpu must be a whole number \(0, 1, ...\), got -1"),
    ("name: x\nresources: {runtime: 1.5}\n", r"resources.runtime must be a whole number"),
    ("name: x\nresources: {slurm_extra: {qos: high}}\n", "resources.slurm_extra must be a string or a number"),
    ("name: x\nresources: {'bad key': 1}\n", "resources key 'bad key' is not a valid resource name"),
    ("!!python/object/apply:os.system ['true']\n", "is not valid YAML"),
])
def test_bad_yaml_names_the_file(tmp_path, text, expected):
    path = yaml_file(tmp_path, text)
    with pytest.raises(ArgsError, match=expected) as err:
        load_args(path)
    assert str(path) in str(err.value)


def test_missing_and_unknown_args_name_yaml_and_arg(tmp_path):
    missing = load_args(yaml_file(tmp_path, "name: x\nargs: {offset: 1}\n"))
    with pytest.raises(ArgsError, match=r"sys.yaml does not fit NeedsGain.__init__: missing arg\(s\) \['gain'\]"):
        check_args(NeedsGain, missing)
    unknown = load_args(yaml_file(tmp_path, "name: x\nargs: {gain: 1, gian: 2}\n"))
    with pytest.raises(ArgsError, match=r"unknown arg\(s\) \['gian'\]"):
        check_args(NeedsGain, unknown)


def test_torch_device_only_for_classes_that_take_it(tmp_path):
    plain = build_system(NeedsGain, load_args(yaml_file(tmp_path, "args: {gain: 3}\n")))
    assert plain.gain == 3
    with_device = build_system(TakesDevice, load_args(yaml_file(tmp_path, "args: {}\n")))
    assert with_device.torch_device == "cpu"  # no GPU on CI machines
