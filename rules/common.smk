# Config, manifest and input functions shared by every stage.

import functools
import tempfile
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

import enhancement.demo
from enhancement.demo import DATASET as DEMO_DATASET, demo_files, demo_sessions
from enhancement.manifest import (
    DEVICE_CHANNELS,
    DEVICES,
    RAW_RATE,
    NAME_PATTERN,
    ManifestError,
    manifest_path,
    read_manifest,
    spread,
    targets_of,
)
from enhancement.plugins import PluginError, plugin_dirs
from enhancement.system_args import ArgsError, find_args_yaml, load_args


validate(config, schema="../enhancement/config.schema.yaml")

DEMO_ROOT = "demo_data"
DEMO_GENERATOR = enhancement.demo.__file__
DATA_ROOT = config["data_root"].rstrip("/")
WORK = config["work_dir"].rstrip("/")
NAME = config["enhancement_name"]
IS_DEMO = Path(DATA_ROOT).resolve() == Path(DEMO_ROOT).resolve()

def check_writable(folder):
    """Fail early, naming the folder, where outputs could not be written."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise WorkflowError(
            f"work_dir {folder} is not a writable folder ({exc.strerror or exc}); "
            "set work_dir (--config work_dir=...) to a folder you can write to"
        ) from None


check_writable(WORK)

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


def missing_raw_inputs():
    """Raw files the targets need but that are absent, described. Snakemake
    cannot plan any job without its input, so all are reported at once."""
    needed = {}
    for t in TARGETS:
        needed.setdefault(
            raw_device_path(t.dataset, t.session, t.device),
            f"recording of session {t.session}, device {t.device}",
        )
        needed.setdefault(
            raw_enrolment_path(t.dataset, t.pid),
            f"enrolment of pid {t.pid}, a partner in session {t.session}",
        )
    return [f"  {p} ({what})" for p, what in needed.items() if not Path(p).is_file()]


if not IS_DEMO and (MISSING := missing_raw_inputs()):
    raise WorkflowError(
        f"{len(MISSING)} input file(s) named by the manifest are missing under data_root "
        f"{DATA_ROOT}:\n" + "\n".join(MISSING) + "\nCheck data_root and the unpacked data, "
        "or leave the affected datasets/devices out (--config datasets=... devices=...)."
    )


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
    """A submission file of the configured system."""
    return system_submission_path(NAME, dataset, session, device, pid)


def validation_summary_path(dataset):
    return system_validation_path(NAME, dataset)


def targets_in(dataset):
    """The targets of one dataset, in manifest order."""
    return [t for t in TARGETS if t.dataset == dataset]


# ---- resources -------------------------------------------------------------


def enhance_mem_mb(wildcards, input):
    """Memory of an enhance job: the device audio as float32 (twice its PCM_16
    size), room for the system's copies of it, and the interpreter with torch."""
    return int(1024 + 4 * input.size_mb)


def enhance_resources():
    """Resources of the enhance jobs: the args yaml's `resources`, over defaults.
    A system needing a GPU says so there (`gpu: 1`, optionally `gpu_model: a100`),
    never the rule: on SLURM that is `sbatch --gpus=[model:]N`, on one machine it
    counts against `--resources gpu=N`. passthrough asks for none."""
    resources = {"mem_mb": enhance_mem_mb, "runtime": 60, **SYSTEM.resources}
    gpu = resources.get("gpu", 0)
    if isinstance(gpu, bool) or not isinstance(gpu, int) or gpu < 0:
        raise WorkflowError(
            f"args yaml {ARGS_YAML}: resources.gpu must be a number of GPUs (0, 1, ...), got {gpu!r}"
        )
    if resources.get("gpu_model") and not gpu:
        # the SLURM executor asks for one GPU of that model; count it locally too
        resources["gpu"] = 1
    return resources


# ---- input functions -------------------------------------------------------


def all_outputs():
    """Every submission file (listed, so a deleted one is re-made) and each
    dataset's validation summary; then the scores and the report's figures and
    tables (see the end of this file)."""
    return [submission_path(t.dataset, t.session, t.device, t.pid) for t in TARGETS] + [
        validation_summary_path(d) for d in config["datasets"]
    ] + evaluation_outputs() + report_outputs()


def all_resampled():
    """The resampled device and enrolment files the configured system reads."""
    devices = {device_input_path(s.dataset, s.session, d) for s, d in SESSION_DEVICES}
    enrolments = {enrolment_input_path(t.dataset, t.pid) for t in TARGETS}
    return sorted(devices | enrolments)


def device_channels(wildcards):
    return DEVICE_CHANNELS[wildcards.device]


def submission_files_of(wildcards):
    return [submission_path(t.dataset, t.session, t.device, t.pid) for t in targets_in(wildcards.dataset)]


def raw_recordings_of(wildcards):
    """Raw device file of each submission file of a dataset, in the same order
    (their lengths set the submission's)."""
    return [raw_device_path(t.dataset, t.session, t.device) for t in targets_in(wildcards.dataset)]


def rule_name_of(prefix, *parts):
    """A rule name from manifest names ('-' is not allowed in rule names)."""
    return "_".join([prefix, *parts]).replace("-", "__")


# ---- scores and report (rules/evaluate.smk, rules/report.smk) --------------
# Path functions take wildcard patterns too: metrics_path("{system}", "{dataset}").


def evaluated_datasets():
    """The datasets being enhanced that `evaluate_datasets` asks to score and
    whose references exist (the demo's are written with it)."""
    wanted = [d for d in config["datasets"] if d in config["evaluate_datasets"]]
    missing = [d for d in wanted if not IS_DEMO and not Path(f"{DATA_ROOT}/ref/{d}").is_dir()]
    for dataset in missing:
        logger.warning(
            f"evaluate_datasets: no references under {DATA_ROOT}/ref/{dataset}; {dataset} is not scored"
        )
    return [d for d in wanted if d not in missing]


EVALUATED = evaluated_datasets()
# The systems `compare` puts side by side; the first is the one the others'
# improvement is measured against.
COMPARED = list(dict.fromkeys([*config["compare_systems"], NAME]))


def system_submission_path(system, dataset, session, device, pid):
    return f"{WORK}/enhanced/{system}/{dataset}/{session}.{device}.{pid}.wav"


def system_validation_path(system, dataset):
    return f"{WORK}/enhanced/{system}/{dataset}/validation.csv"


def reference_path(dataset, session, device, pid):
    return f"{DATA_ROOT}/ref/{dataset}/{session}.{device}.{pid}.wav"


def segments_path(dataset, session, device, pid):
    return f"{DATA_ROOT}/metadata/ref/{dataset}/{session}.{device}.{pid}.csv"


def file_scores_path(system, dataset, session, device, pid):
    return f"{WORK}/metrics/{system}/{dataset}/{session}.{device}.{pid}.csv"


def metrics_path(system, dataset, table="metrics"):
    """metrics.csv (per segment), metrics_by_file.csv, metrics_by_device.csv."""
    return f"{WORK}/enhanced/{system}/{dataset}/{table}.csv"


def comparison_path(dataset):
    return f"{WORK}/enhanced/comparison.{dataset}.csv"


def report_path(system, dataset, name):
    """A figure or table made for the report (not part of the submission)."""
    return f"{WORK}/report/{system}/{dataset}/{name}"


def evaluation_outputs():
    """The configured system's scores and the comparison of systems, per scored dataset."""
    return [metrics_path(NAME, d) for d in EVALUATED] + [comparison_path(d) for d in EVALUATED]


def report_outputs():
    """The validation summary as a table, and spectrogram figures of up to
    `report_spectrograms` targets per dataset (spread over sessions and devices;
    a figure per target would be a matplotlib job per file, and a report no one reads)."""
    return [report_path(NAME, d, "validation.html") for d in config["datasets"]] + [
        report_path(NAME, t.dataset, f"spectrograms/{t.session}.{t.device}.{t.pid}.png")
        for d in config["datasets"]
        for t in spread(targets_in(d), config["report_spectrograms"])
    ]


def file_scores_of(wildcards):
    """The per-file scores of every submission file of a system and dataset."""
    return [
        file_scores_path(wildcards.system, t.dataset, t.session, t.device, t.pid)
        for t in targets_in(wildcards.dataset)
    ]


@functools.cache
def systems_with_submission(dataset):
    """The systems of `compare_systems` with a finished submission of a
    dataset (every file and its validation summary), and the configured one.
    Those not yet run are left out, saying how to add them."""
    found, absent = [], []
    for system in COMPARED:
        files = [system_submission_path(system, t.dataset, t.session, t.device, t.pid) for t in targets_in(dataset)]
        files.append(system_validation_path(system, dataset))
        (found if system == NAME or all(Path(f).is_file() for f in files) else absent).append(system)
    if absent:
        logger.info(
            f"compare ({dataset}): no finished submission of {', '.join(absent)}; "
            f"run e.g. `snakemake --config enhancement_name={absent[0]}` to add it"
        )
    return found


def compared_systems_of(wildcards):
    return systems_with_submission(wildcards.dataset)


def compared_metrics_of(wildcards):
    """metrics.csv of each compared system (made from its submission if missing)."""
    return [metrics_path(s, wildcards.dataset) for s in systems_with_submission(wildcards.dataset)]


def reference_if_scored(wildcards):
    """The clean reference of a target, where its dataset is scored (else none)."""
    if wildcards.dataset not in EVALUATED:
        return []
    return reference_path(wildcards.dataset, wildcards.session, wildcards.device, wildcards.pid)
