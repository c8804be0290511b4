"""The per-system args yaml: where it is, what it says, and building the system from it.

Format (the upstream layout, plus optional workflow keys)::

    name: example             # the registered system these args are for
    args: {output_sample_rate: 16000}   # passed to the class's __init__
    sample_rate: 16000        # rate the system wants its input at (default 16000)
    resources: {gpu: 0}       # Snakemake resources of its enhance jobs (optional)
    threads: 1                # CPU threads of an enhance job (torch uses this many)
    time_limit: 120           # minutes an enhance job may take before it is stopped (optional)
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from enhancement.plugins import REPO_ROOT

log = logging.getLogger(__name__)

ARGS_DIR = REPO_ROOT / "enhance_args"
DEFAULT_SAMPLE_RATE = 16000
KNOWN_KEYS = {"name", "args", "sample_rate", "resources", "threads", "time_limit"}
# Resources that are counts: a non-negative integer each. Every other key
# (slurm_partition, slurm_account, slurm_extra, constraint, qos, gpu_model, ...)
# reaches Snakemake as it is: a string or a number.
COUNT_RESOURCES = {"gpu", "mem_mb", "runtime", "cpus_per_task", "nodes", "tasks", "disk_mb"}


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


def load_args(path: Path) -> SystemArgs:
    """Parse and shape-check an args yaml (safe loader; no code runs)."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ArgsError(f"cannot read args yaml {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ArgsError(f"args yaml {path} is not valid YAML: {exc}") from exc
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ArgsError(f"args yaml {path} must be a mapping with 'name' and 'args'")
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise ArgsError(
            f"args yaml {path}: unknown top-level key(s) {unknown}; allowed: {sorted(KNOWN_KEYS)} "
            "(constructor arguments go under 'args:')"
        )
    args = data.get("args") or {}
    if not isinstance(args, dict):
        raise ArgsError(f"args yaml {path}: 'args' must be a mapping, got {type(args).__name__}")
    rate = data.get("sample_rate", DEFAULT_SAMPLE_RATE)
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise ArgsError(f"args yaml {path}: 'sample_rate' must be a positive integer, got {rate!r}")
    resources = check_resources(data.get("resources") or {}, path)
    threads = data.get("threads", 1)
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ArgsError(f"args yaml {path}: 'threads' must be a positive integer, got {threads!r}")
    time_limit = data.get("time_limit")
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                   or not time_limit > 0):
        raise ArgsError(f"args yaml {path}: 'time_limit' must be a number of minutes above 0, got {time_limit!r}")
    name = data.get("name")
    return SystemArgs(Path(path), None if name is None else str(name), args, rate, resources, threads,
                      None if time_limit is None else float(time_limit))


def check_resources(resources: Any, path: Path) -> dict[str, Any]:
    """Every key of ``resources:`` becomes a Snakemake resource of the system's
    enhance jobs; check the values now, naming the yaml, rather than let a
    wrong type surface as an sbatch error on the cluster."""
    if not isinstance(resources, dict):
        raise ArgsError(f"args yaml {path}: 'resources' must be a mapping of resource names to values")
    for key, value in resources.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ArgsError(f"args yaml {path}: resources key {key!r} is not a valid resource name")
        if key in COUNT_RESOURCES:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ArgsError(
                    f"args yaml {path}: resources.{key} must be a whole number (0, 1, ...), got {value!r}"
                )
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ArgsError(
                f"args yaml {path}: resources.{key} must be a string or a number, got {value!r}"
            )
    return dict(resources)


def check_args(cls: type, system: SystemArgs) -> None:
    """Compare the yaml's args with ``cls.__init__`` before any audio is read."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    named = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [
        n for n, p in named.items()
        if p.default is p.empty and n != "torch_device" and n not in system.args
    ]
    unknown = [] if takes_any else [a for a in system.args if a not in named]
    problems = []
    if missing:
        problems.append(f"missing arg(s) {missing}")
    if unknown:
        problems.append(f"unknown arg(s) {unknown} (accepted: {sorted(named)})")
    if problems:
        raise ArgsError(
            f"args yaml {system.path} does not fit {cls.__qualname__}.__init__: "
            + "; ".join(problems)
        )


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
