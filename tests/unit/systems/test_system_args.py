from pathlib import Path

import pytest

from enhancement.systems.args import ARGS_DIR, ArgsError, build_system, check_args, find_args_yaml, load_args


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
    assert load_args(yaml_file(tmp_path, "name: x\n")).sample_rate == 16000


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: x\nargs: [1, 2]\n", "'args' must be a mapping"),
        ("name: x\nargz: {}\n", r"unknown top-level key\(s\) \['argz'\]"),
        ("name: x\nsample_rate: fast\n", "'sample_rate' must be a whole number of Hz from 8000 to 192000"),
        ("name: [x\n", "is not valid YAML"),
        ("- 1\n", "must be a mapping"),
        ("name: x\nresources: [gpu, 1]\n", "'resources' must be a mapping"),
        ("!!python/object/apply:os.system ['true']\n", "is not valid YAML"),
    ],
)
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


@pytest.mark.parametrize("rate", ["16", "1", "1600000", "7999", "192001", "16000.0", "True"])
def test_sample_rate_outside_a_sane_range_names_the_yaml(tmp_path, rate):
    path = yaml_file(tmp_path, f"name: x\nsample_rate: {rate}\n")
    with pytest.raises(
        ArgsError,
        match=rf"sys.yaml: 'sample_rate' must be a whole number of Hz from 8000 to "
        rf"192000 .*got {rate!s}",
    ):
        load_args(path)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000, 192000])
def test_sane_sample_rates_are_accepted(tmp_path, rate):
    assert load_args(yaml_file(tmp_path, f"sample_rate: {rate}\n")).sample_rate == rate


def test_no_gpu_is_a_sensible_count(tmp_path):
    assert load_args(yaml_file(tmp_path, "resources: {gpu: 0, mem_mb: 1, runtime: 1}\n")).resources["gpu"] == 0


def test_any_resource_key_is_passed_through(tmp_path):
    text = (
        "resources: {slurm_partition: gpu, slurm_account: lab1, slurm_extra: '--exclusive', constraint: a100,\n"
        "            qos: 12, gpu: 1, gpu_model: a100, mem_mb: 32000, runtime: 120, cpus_per_task: 4,\n"
        "            tmpdisk_gb: 2.5}\n"
    )
    resources = load_args(yaml_file(tmp_path, text)).resources
    assert resources == {
        "slurm_partition": "gpu",
        "slurm_account": "lab1",
        "slurm_extra": "--exclusive",
        "constraint": "a100",
        "qos": 12,
        "gpu": 1,
        "gpu_model": "a100",
        "mem_mb": 32000,
        "runtime": 120,
        "cpus_per_task": 4,
        "tmpdisk_gb": 2.5,
    }


@pytest.mark.parametrize(
    "resources, expected",
    [
        ('{mem_mb: "lots"}', r"resources.mem_mb must be a whole number >= 1 \(MB\), got 'lots'"),
        ("{mem_mb: 8000.5}", r"resources.mem_mb must be a whole number >= 1"),
        ("{gpu: -1}", r"resources.gpu must be a whole number >= 0 \(a count\), got -1"),
        ("{gpu: true}", r"resources.gpu must be a whole number >= 0"),
        ("{runtime: 1h}", r"resources.runtime must be a whole number >= 1 \(minutes\), got '1h'"),
        ("{cpus_per_task: [4]}", r"resources.cpus_per_task must be a whole number >= 1"),
        # 0 MB is the whole node's memory on SLURM (--mem=0); 0 minutes or CPUs no job at all
        ("{mem_mb: 0}", r"resources.mem_mb must be a whole number >= 1 \(MB\), got 0; leave the key out"),
        ("{runtime: 0}", r"resources.runtime must be a whole number >= 1 \(minutes\), got 0"),
        ("{cpus_per_task: -2}", r"resources.cpus_per_task must be a whole number >= 1 \(a count\), got -2"),
        ("{slurm_partition: [a, b]}", r"resources.slurm_partition must be a plain string or number, got \['a', 'b'\]"),
        ("{constraint: {a: 1}}", r"resources.constraint must be a plain string or number"),
        ("{qos: null}", r"resources.qos must be a plain string or number, got None"),
        ("{1: x}", r"resource name 1 must be a string"),
    ],
)
def test_bad_resources_name_the_yaml_and_the_key(tmp_path, resources, expected):
    path = yaml_file(tmp_path, f"name: x\nresources: {resources}\n")
    with pytest.raises(ArgsError, match=expected) as err:
        load_args(path)
    assert str(path) in str(err.value)


BOMB = (
    "\n".join(
        ["name: x", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
        + ["args: {gain: *l8}"]
    )
    + "\n"
)


def test_alias_bomb_is_refused_quickly_naming_the_yaml(tmp_path):
    path = yaml_file(tmp_path, BOMB)
    assert len(BOMB) < 600
    with pytest.raises(
        ArgsError,
        match=r"sys.yaml: its aliases \(\*name\) expand it to \d+ values, more than the "
        r"100000 allowed",
    ):
        load_args(path)


def test_bomb_values_are_never_printed_whole(tmp_path):
    # an alias-free value in a message is shortened: a huge one cannot flood the log
    path = yaml_file(tmp_path, "sample_rate: [" + ", ".join(["1"] * 5000) + "]\n")
    with pytest.raises(ArgsError) as err:
        load_args(path)
    assert len(str(err.value)) < 500


def test_a_few_aliases_are_fine(tmp_path):
    text = "args: {a: &v [1, 2, 3], b: *v}\n"
    assert load_args(yaml_file(tmp_path, text)).args == {"a": [1, 2, 3], "b": [1, 2, 3]}


def test_recursive_alias_is_refused(tmp_path):
    path = yaml_file(tmp_path, "args: &a {x: *a}\n")
    with pytest.raises(ArgsError, match=r"sys.yaml: an alias refers to the value that contains it"):
        load_args(path)


def test_name_must_be_a_string(tmp_path):
    with pytest.raises(ArgsError, match=r"sys.yaml: 'name' must be a string, got \['x'\]"):
        load_args(yaml_file(tmp_path, "name: [x]\n"))


def test_time_limit_is_minutes_above_zero(tmp_path):
    assert load_args(yaml_file(tmp_path, "name: x\ntime_limit: 90\n")).time_limit == 90.0
    assert load_args(yaml_file(tmp_path, "name: x\n")).time_limit is None
    for bad in ("0", "-5", "soon", "true"):
        with pytest.raises(ArgsError, match="'time_limit' must be a number of minutes above 0"):
            load_args(yaml_file(tmp_path, f"name: x\ntime_limit: {bad}\n"))
