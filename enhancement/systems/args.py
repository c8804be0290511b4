"""The per-system args yaml: where it is, what it says, and building the system from it.

Format (the upstream layout, plus optional workflow keys)::

    name: example             # the registered system these args are for
    args: {output_sample_rate: 16000}   # passed to the class's __init__
    sample_rate: 16000        # rate the system wants its input at (default 16000)
    resources: {gpu: 0}       # Snakemake resources of its enhance jobs (optional; any key:
                              # gpu a whole number >= 0; mem_mb, runtime, cpus_per_task >= 1,
                              # slurm_partition, slurm_account, constraint, ... plain values)
    threads: 1                # CPU threads of an enhance job (torch uses this many)
    time_limit: 120           # minutes an enhance job may take before it is stopped (optional)
"""

from __future__ import annotations

import inspect
import json
import logging
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from enhancement.systems.plugins import REPO_ROOT

log = logging.getLogger(__name__)

ARGS_DIR = REPO_ROOT / "enhance_args"
DEFAULT_SAMPLE_RATE = 16000
KNOWN_KEYS = {"name", "args", "sample_rate", "resources", "threads", "time_limit"}
# Whole-number resources and their least sensible value: 0 GPUs is a CPU job, but
# 0 MB (on SLURM --mem=0: the whole node's memory), 0 minutes or 0 CPUs is a mistake.
INT_RESOURCES = {"gpu": 0, "mem_mb": 1, "runtime": 1, "cpus_per_task": 1}
SAMPLE_RATES = (8000, 192000)  # a system's input rate outside these is a typo, not a choice
# The folder Snakemake was started from: relative paths among a system's args (a
# model's checkpoint) mean what they mean from there; the enhance job builds and
# runs the system in it, though the job itself runs inside work_dir.
LAUNCH_DIR_VARIABLE = "ECHI_LAUNCH_DIR"
MAX_EXPANDED_NODES = 100_000  # values an args yaml may expand to through its aliases (*name)
_short = reprlib.Repr()  # values shown in messages: bounded, whatever the yaml holds
_short.maxstring, _short.maxother, _short.maxlevel = 60, 60, 2


class ArgsError(ValueError):
    """An args yaml that is missing, unreadable, or does not fit its class."""


@dataclass(frozen=True)
class SystemArgs:
    path: Path
    name: str | None
    args: dict[str, Any] = field(default_factory=dict)
    sample_rate: int = DEFAULT_SAMPLE_RATE
    resources: dict[str, Any] = field(default_factory=dict)
    threads: int = 1
    time_limit: float | None = None  # minutes an enhance job may take; None: no limit

    def meaning(self) -> str:
        """What the yaml says about the outputs, wherever it lies and however it is
        written (comments, order, layout): an enhance job's parameter, so an edit
        that changes nothing re-runs nothing, and a change re-runs the system's
        jobs. Where and how long a job runs (``resources``, ``time_limit``) is not
        part of it: a new partition must not re-run hours of enhancement. Threads
        are: torch's reductions may differ in the last bits with their count."""
        said = {"name": self.name, "args": self.args, "sample_rate": self.sample_rate, "threads": self.threads}
        return json.dumps(said, sort_keys=True, default=repr)


def find_args_yaml(spec: str, plugin_folders: Iterable[Path] = ()) -> Path:
    """Resolve ``enhance_args``: a path, or a name looked up in the repo's
    ``enhance_args/`` and then beside the plugins of each plugin folder."""
    as_path = Path(spec).expanduser()
    if as_path.suffix in {".yaml", ".yml"} or len(as_path.parts) > 1:
        if as_path.is_file():
            return as_path.resolve()
        raise ArgsError(f"enhance_args file {spec} does not exist")
    candidates = [ARGS_DIR / f"{spec}.yaml"] + [Path(d) / f"{spec}.yaml" for d in plugin_folders]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    looked = "\n".join(f"  {c}" for c in candidates)
    raise ArgsError(
        f"no args yaml for enhance_args={spec!r}; looked for:\n{looked}\n"
        "Write one ({name: ..., args: {...}}) or pass enhance_args=<path to a yaml>."
    )


def expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int], path: Path) -> int:
    """How many values ``node`` stands for once every alias is replaced by
    its anchor's value (memoised: linear in the nodes as written)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise ArgsError(f"args yaml {path}: an alias refers to the value that contains it; remove it")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(expanded_size(child, sizes, open_nodes, path) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            expanded_size(k, sizes, open_nodes, path) + expanded_size(v, sizes, open_nodes, path) for k, v in node.value
        )
    open_nodes.discard(key)
    sizes[key] = size
    return size


def safe_load_bounded(text: str, path: Path) -> Any:
    """``yaml.safe_load``, refusing a document whose aliases expand it beyond
    MAX_EXPANDED_NODES values (an "alias bomb": a few hundred bytes that stand
    for billions of values, exhausting memory wherever they are walked)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sizes: dict[int, int] = {}
        size = expanded_size(node, sizes, set(), path)
        if size > MAX_EXPANDED_NODES and size > len(sizes):
            raise ArgsError(
                f"args yaml {path}: its aliases (*name) expand it to {size} values, more than the "
                f"{MAX_EXPANDED_NODES} allowed; write the values out, or use fewer aliases"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_resources(resources: Any, path: Path) -> dict[str, Any]:
    """Any key may be given (each is passed to Snakemake and its executor:
    slurm_partition, slurm_account, slurm_extra, constraint, qos, gpu_model, ...);
    gpu is a whole number >= 0, mem_mb, runtime and cpus_per_task whole numbers
    >= 1, every other value a plain string or number, never a list or mapping."""
    if resources is None:
        return {}
    if not isinstance(resources, dict):
        raise ArgsError(
            f"args yaml {path}: 'resources' must be a mapping (e.g. {{mem_mb: 8000, gpu: 1}}), "
            f"got {_short.repr(resources)}"
        )
    for key, value in resources.items():
        if not isinstance(key, str):
            raise ArgsError(f"args yaml {path}: resource name {_short.repr(key)} must be a string")
        if key in INT_RESOURCES:
            least = INT_RESOURCES[key]
            if not whole_number(value) or value < least:
                raise ArgsError(
                    f"args yaml {path}: resources.{key} must be a whole number >= {least} "
                    f"({'MB' if key == 'mem_mb' else 'minutes' if key == 'runtime' else 'a count'}), "
                    f"got {_short.repr(value)}"
                    + ("; leave the key out for the workflow's default" if whole_number(value) else "")
                )
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ArgsError(
                f"args yaml {path}: resources.{key} must be a plain string or number, got {_short.repr(value)}"
            )
    return dict(resources)


def load_args(path: Path) -> SystemArgs:
    """Parse and shape-check an args yaml (safe loader; no code runs)."""
    try:
        data = safe_load_bounded(Path(path).read_text(), Path(path))
    except OSError as exc:
        raise ArgsError(f"cannot read args yaml {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ArgsError(f"args yaml {path} is not valid YAML: {exc}") from exc
    except RecursionError:
        raise ArgsError(f"args yaml {path} is nested too deeply to read; flatten it") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ArgsError(f"args yaml {path} must be a mapping with 'name' and 'args'")
    unknown = sorted(set(data) - KNOWN_KEYS, key=str)
    if unknown:
        raise ArgsError(
            f"args yaml {path}: unknown top-level key(s) {_short.repr(unknown)}; allowed: "
            f"{sorted(KNOWN_KEYS)} (constructor arguments go under 'args:')"
        )
    args = data.get("args") or {}
    if not isinstance(args, dict):
        raise ArgsError(f"args yaml {path}: 'args' must be a mapping, got {type(args).__name__}")
    rate = data.get("sample_rate", DEFAULT_SAMPLE_RATE)
    low, high = SAMPLE_RATES
    if not whole_number(rate) or not low <= rate <= high:
        raise ArgsError(
            f"args yaml {path}: 'sample_rate' must be a whole number of Hz from {low} to {high} "
            f"(the rate the system wants its input at, e.g. 16000), got {_short.repr(rate)}"
        )
    resources = check_resources(data.get("resources"), Path(path))
    threads = data.get("threads", 1)
    if not whole_number(threads) or threads < 1:
        raise ArgsError(f"args yaml {path}: 'threads' must be a positive integer, got {_short.repr(threads)}")
    time_limit = data.get("time_limit")
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0
    ):
        raise ArgsError(
            f"args yaml {path}: 'time_limit' must be a number of minutes above 0, got {_short.repr(time_limit)}"
        )
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise ArgsError(f"args yaml {path}: 'name' must be a string, got {_short.repr(name)}")
    return SystemArgs(
        Path(path), name, args, rate, resources, threads, None if time_limit is None else float(time_limit)
    )


def check_args(cls: type, system: SystemArgs) -> None:
    """Compare the yaml's args with ``cls.__init__`` before any audio is read."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    named = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [n for n, p in named.items() if p.default is p.empty and n != "torch_device" and n not in system.args]
    unknown = [] if takes_any else [a for a in system.args if a not in named]
    problems = []
    if missing:
        problems.append(f"missing arg(s) {missing}")
    if unknown:
        problems.append(f"unknown arg(s) {unknown} (accepted: {sorted(named)})")
    if problems:
        raise ArgsError(f"args yaml {system.path} does not fit {cls.__qualname__}.__init__: " + "; ".join(problems))


def default_torch_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build_system(cls: type, system: SystemArgs) -> Any:
    """Instantiate ``cls`` from its args; ``torch_device`` only where accepted."""
    check_args(cls, system)
    kwargs = dict(system.args)
    if "torch_device" in inspect.signature(cls.__init__).parameters and "torch_device" not in kwargs:
        kwargs["torch_device"] = default_torch_device()
    return cls(**kwargs)
