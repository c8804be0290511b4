# Config, manifest and input functions shared by every stage.

from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from enhancement.demo import DATASET as DEMO_DATASET, demo_files, demo_sessions
from enhancement.manifest import (
    DEVICE_CHANNELS,
    DEVICES,
    RAW_RATE,
    NAME_PATTERN,
    ManifestError,
    manifest_path,
    read_manifest,
    targets_of,
)
from enhancement.plugins import PluginError, plugin_dirs
from enhancement.system_args import ArgsError, find_args_yaml, load_args


validate(config, schema="../enhancement/config.schema.yaml")

DEMO_ROOT = "demo_data"
DATA_ROOT = config["data_root"].rstrip("/")
WORK = config["work_dir"].rstrip("/")
NAME = config["enhancement_name"]
IS_DEMO = Path(DATA_ROOT).resolve() == Path(DEMO_ROOT).resolve()

try:
    ARGS_YAML = find_args_yaml(config.get("enhance_args") or NAME, plugin_dirs())
    SYSTEM = load_args(ARGS_YAML)
except (ArgsError, PluginError) as exc:
    raise WorkflowError(str(exc)) from None
RATE = SYSTEM.sample_rate


def sessions_of(dataset):
    """Manifest rows of a dataset (the demo's are known before it is written)."""
    if IS_DEMO:
        if dataset != DEMO_DATASET:
            raise WorkflowError(
                f"the demo data has only the '{DEMO_DATASET}' dataset; "
                f"set datasets=[{DEMO_DATASET}] or data_root to the ECHI data"
            )
        return demo_sessions()
    try:
        return read_manifest(manifest_path(DATA_ROOT, dataset), dataset)
    except ManifestError as exc:
        raise WorkflowError(str(exc)) from None


SESSIONS = [s for dataset in config["datasets"] for s in sessions_of(dataset)]
TARGETS = targets_of(SESSIONS, config["devices"], on_skip=logger.info)
# (session row, device) pairs with a recording: one enhance job each.
SESSION_DEVICES = [
    (s, device) for s in SESSIONS for device in config["devices"] if device in s.devices()
]


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    device="|".join(DEVICES),
    session=NAME_PATTERN,
    pid=NAME_PATTERN,
    rate=r"\d+",


# ---- paths -----------------------------------------------------------------


def raw_device_path(dataset, session, device):
    return f"{DATA_ROOT}/{device}/{dataset}/{session}.{device}.wav"


def raw_enrolment_path(dataset, pid):
    return f"{DATA_ROOT}/participant/{dataset}/{pid}.wav"


def device_input_path(dataset, session, device):
    """Device audio at the system's rate: raw when no resampling is needed."""
    if RATE == RAW_RATE:
        return raw_device_path(dataset, session, device)
    return f"{WORK}/resampled/{RATE}/{device}/{dataset}/{session}.{device}.wav"


def enrolment_input_path(dataset, pid):
    if RATE == RAW_RATE:
        return raw_enrolment_path(dataset, pid)
    return f"{WORK}/resampled/{RATE}/participant/{dataset}/{pid}.wav"


def submission_path(dataset, session, device, pid):
    return f"{WORK}/enhanced/{NAME}/{dataset}/{session}.{device}.{pid}.wav"


def validation_summary_path(dataset):
    return f"{WORK}/enhanced/{NAME}/{dataset}/validation.csv"


# ---- resources -------------------------------------------------------------


def enhance_mem_mb(wildcards, input):
    """Memory of an enhance job: the device audio as float32 (twice its PCM_16
    size), room for the system's copies of it, and the interpreter with torch."""
    return int(1024 + 4 * input.size_mb)


def enhance_resources():
    """Resources of the enhance jobs: the args yaml's `resources`, over defaults.
    A system needing a GPU says so there (`gpu: 1`); passthrough needs none."""
    return {"mem_mb": enhance_mem_mb, "runtime": 60, **SYSTEM.resources}


# ---- input functions -------------------------------------------------------


def all_outputs():
    """Every submission file (listed, so a deleted one is re-made) and each
    dataset's validation summary."""
    return [submission_path(t.dataset, t.session, t.device, t.pid) for t in TARGETS] + [
        validation_summary_path(d) for d in config["datasets"]
    ]


def all_resampled():
    """The resampled device and enrolment files the configured system reads."""
    devices = {device_input_path(s.dataset, s.session, d) for s, d in SESSION_DEVICES}
    enrolments = {enrolment_input_path(t.dataset, t.pid) for t in TARGETS}
    return sorted(devices | enrolments)


def device_channels(wildcards):
    return DEVICE_CHANNELS[wildcards.device]


def submission_files_of(wildcards):
    return [submission_path(t.dataset, t.session, t.device, t.pid) for t in TARGETS if t.dataset == wildcards.dataset]


def raw_recordings_of(wildcards):
    """Raw device file of each submission file of a dataset, in the same order
    (their lengths set the submission's)."""
    return [
        raw_device_path(t.dataset, t.session, t.device)
        for t in TARGETS
        if t.dataset == wildcards.dataset
    ]


def rule_name_of(prefix, *parts):
    """A rule name from manifest names ('-' is not allowed in rule names)."""
    return "_".join([prefix, *parts]).replace("-", "__")
