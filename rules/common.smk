# Config, the sessions manifest and the path functions every stage uses.
# Each stage's own input functions live beside its rules.

import os
import tempfile
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.io import WILDCARD_REGEX
from snakemake.logging import logger
from snakemake.utils import validate

import enhancement.data.demo
from enhancement.data import challenge
from enhancement.data.challenge import DEVICES, PARTNERS_PER_DEVICE, RAW_RATE
from enhancement.data.demo import DATASET as DEMO_DATASET, demo_sessions
from enhancement.data.manifest import (
    NAME_PATTERN,
    ManifestError,
    manifest_path,
    read_manifest,
    targets_of,
)
from enhancement.workflow.plan_checks import (
    PlanError,
    check_baseline_files,
    check_earliest_start,
    check_metrics,
    system_plugin_dirs,
)
from enhancement.systems.plugins import PluginError, plugin_dirs
from enhancement.evaluation.inputs import SCORE_TABLE
from enhancement.workflow.shutdown import pass_sigterm_to_jobs
from enhancement.systems.args import (
    LAUNCH_DIR_VARIABLE,
    ArgsError,
    find_args_yaml,
    load_args,
)
from enhancement.workflow.job_code import job_code_fingerprint, use_cache_file
from enhancement.workflow.portable import portable
from enhancement.workflow.system_code import code_fingerprint, system_code_files

validate(config, schema="../enhancement/config.schema.yaml")
# ---- values the schema cannot refuse, refused before anything runs ------------
try:
    check_metrics(config["metrics"])
    check_earliest_start(config["evaluation_earliest_start_s"])
except PlanError as exc:
    raise WorkflowError(str(exc)) from None


def refuse_markup(value, what):
    """Paths reach report.html inside HTML, and inside JSON in a <script>, where
    Snakemake does not escape them: refuse the characters that would be markup
    or end a quoted attribute or string there (and control characters, which
    no sane folder name needs)."""
    bad = sorted(
        {c for c in str(value) if c in "<>\"'`" or ord(c) < 32 or ord(c) == 127}
    )
    if bad:
        raise WorkflowError(
            f"{what} {str(value)!r} contains {', '.join(repr(c) for c in bad)}, which the HTML report "
            "would take as markup; use a folder name without them (or a symbolic link to it)"
        )
    return value


def refuse_wildcards(value, what):
    """Snakemake reads `{name}` (or `{name,regex}`) in an input or output path as
    a wildcard: a folder name holding one would fail with a WildcardError naming
    neither the key nor the folder. Other braces (`{{ x }}`, `{}`) pass through."""
    found = [m.group(0) for m in WILDCARD_REGEX.finditer(str(value))]
    if found:
        raise WorkflowError(
            f"{what} {str(value)!r} contains {', '.join(repr(f) for f in found)}, which Snakemake "
            "reads as a wildcard in a path; use a folder name without it (or a symbolic link to it)"
        )
    return value


def plain_folder(value, what):
    """A folder name the report and Snakemake's path patterns take literally."""
    return refuse_wildcards(refuse_markup(value, what), what)


def config_folder(key):
    """A folder of the config: `~` expanded (Snakemake does not), a trailing
    separator dropped, markup and wildcards refused."""
    return plain_folder(os.path.expanduser(config[key]).rstrip(os.sep), key)


# Folders in the config mean what they mean from the folder Snakemake was
# started in (or its --directory). Snakemake then runs inside work_dir (see
# `enter_work_dir`), and the rules name every path relative to it: the records
# Snakemake keeps of each output do not depend on the launch folder, and a
# project folder copied or moved whole keeps its history.
# Relative paths in an args yaml (a model's checkpoint) are relative to this
# folder too: the enhance job builds the system there (enhancement/systems/enhance.py).
# An environment variable, not a param: it does not change what a job makes. A
# job's own Snakemake (a cluster job) may start elsewhere (srun starts it inside
# work_dir): it takes the folder of the Snakemake that planned it.
if workflow.is_main_process or not os.environ.get(LAUNCH_DIR_VARIABLE):
    os.environ[LAUNCH_DIR_VARIABLE] = os.getcwd()
LAUNCH_DIR = Path(os.environ[LAUNCH_DIR_VARIABLE])
os.chdir(LAUNCH_DIR)
WORK = os.path.abspath(config_folder("work_dir"))


def from_work_dir(path):
    """A path given from the launch folder, as seen from work_dir (symbolic
    links resolved, so that `..` means the physical parent)."""
    return os.path.relpath(os.path.realpath(path), os.path.realpath(WORK))


def as_given(path):
    """A path the rules name, as the user sees it: from the launch folder."""
    real = os.path.normpath(os.path.join(os.path.realpath(WORK), path))
    return os.path.relpath(real, os.path.realpath(LAUNCH_DIR))


# The Snakemake that plans a run checks the inputs and works out the code
# fingerprints; a cluster job's own Snakemake, which runs the one job it is given
# (--force: no rerun decision, no metadata written), repeats none of it.
PLANNER = workflow.is_main_process
NOT_PLANNED_HERE = "(worked out by the planning Snakemake)"

DEMO_ROOT = from_work_dir("demo_data")
DATA_ROOT = from_work_dir(config_folder("data_root"))
IS_DEMO = DATA_ROOT == DEMO_ROOT


def check_writable(folder):
    """Fail early, naming the folder, where outputs could not be written."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise WorkflowError(
            f"work_dir {config['work_dir']} is not a writable folder ({exc.strerror or exc}); "
            "set work_dir (--config work_dir=...) to a folder you can write to"
        ) from None


# ---- the system ------------------------------------------------------------
# SYSTEM is the configured system's name (`enhancement_name`), SYSTEM_ARGS its
# parsed args yaml (init args, input rate, threads, resources). With
# `submission_dir` set, nothing is enhanced: that folder, made by any tool, is
# validated and scored under the name SYSTEM (run_evaluation.py).

SYSTEM = config["enhancement_name"]
SUBMISSION_DIR = (
    from_work_dir(config_folder("submission_dir"))
    if config.get("submission_dir")
    else None
)
SCORING_ONLY = SUBMISSION_DIR is not None
# the code fingerprints' parsed files, kept between plans (enhancement/workflow/job_code.py)
if PLANNER:
    use_cache_file(Path(WORK, ".snakemake", "echi-code-cache.json"))
if SCORING_ONLY and not Path(config_folder("submission_dir")).is_dir():
    raise WorkflowError(
        f"submission_dir {config['submission_dir']} is not a folder: give the folder holding the "
        "<session>.<device>.<pid>.wav files to score"
    )
try:
    # absolute, resolved once here: the jobs need neither ECHIPLUGINS nor this folder
    PLUGIN_DIRS = plugin_dirs(configured=config["plugin_dirs"])
    # the plugin folders an enhance job imports; an unregistered name is refused
    # here (before its args yaml is looked for), not by a failing job that
    # deletes the outputs it was re-making
    SYSTEM_PLUGIN_DIRS = (
        []
        if SCORING_ONLY
        else [str(d) for d in system_plugin_dirs(SYSTEM, PLUGIN_DIRS)]
    )
    ARGS_YAML = plain_folder(
        find_args_yaml(
            config.get("enhance_args") or ("passthrough" if SCORING_ONLY else SYSTEM),
            PLUGIN_DIRS,
        ),
        "enhance_args",
    )
    SYSTEM_ARGS = load_args(ARGS_YAML)
    # a change to the system's code re-runs its enhance jobs (a parameter of theirs)
    SYSTEM_CODE = (
        code_fingerprint(system_code_files(SYSTEM, PLUGIN_DIRS))
        if PLANNER
        else NOT_PLANNED_HERE
    )
    if PLANNER and SYSTEM == "baseline" and not SCORING_ONLY:
        check_baseline_files(SYSTEM_ARGS, config["devices"])
except (ArgsError, PluginError, PlanError) as exc:
    raise WorkflowError(str(exc)) from None
RATE = SYSTEM_ARGS.sample_rate
# after every folder name is checked: a refused one leaves nothing behind
if PLANNER:
    check_writable(WORK)


def work_relative(target):
    """A file named on the command line (from the launch folder), as the rules
    name it. Rule names pass unchanged."""
    return target if target.isidentifier() else from_work_dir(LAUNCH_DIR / target)


def enter_work_dir():
    """Run inside work_dir, so that Snakemake's records of each output (params,
    code, incomplete jobs) and its lock live with the outputs: any launch folder
    sees the same history, and two runs on one work_dir are locked against each
    other. Files named on the command line (targets, --forcerun, --until,
    --omit-from) and `--report` keep meaning what they mean from the launch
    folder: Snakemake reads them only after this file, so the two methods it
    reads them in are wrapped here."""
    prepare_dag, create_report = workflow._prepare_dag, workflow.create_report
    translated = []

    def prepare_dag_from_launch_folder(*args, **kwargs):
        settings = workflow.dag_settings
        if settings is not None and not translated:
            for field in ("targets", "forcerun", "until", "omit_from"):
                names = getattr(settings, field)
                setattr(settings, field, frozenset(work_relative(t) for t in names))
            translated.append(True)
        return prepare_dag(*args, **kwargs)

    def report_from_launch_folder(
        report_plugin, report_settings, global_report_settings
    ):
        path = getattr(report_settings, "path", None)
        if path is not None and not Path(path).is_absolute():
            report_settings.path = LAUNCH_DIR / path
        return create_report(report_plugin, report_settings, global_report_settings)

    workflow._prepare_dag = prepare_dag_from_launch_folder
    workflow.create_report = report_from_launch_folder
    os.chdir(WORK)


enter_work_dir()

# ---- the manifest ----------------------------------------------------------


def sessions_of(dataset):
    """Manifest rows of a dataset (the demo's are known before it is written)."""
    if IS_DEMO:
        if dataset != DEMO_DATASET:
            raise WorkflowError(
                f"the demo data has only the '{DEMO_DATASET}' dataset; "
                f"set datasets=[{DEMO_DATASET}] or data_root to the ECHI data"
            )
        return demo_sessions()
    path = manifest_path(DATA_ROOT, dataset)
    try:
        return read_manifest(path, dataset)
    except ManifestError as exc:
        # named from the launch folder, as data_root was given
        raise WorkflowError(str(exc).replace(str(path), as_given(path))) from None


SESSIONS = {
    (s.dataset, s.session): s
    for dataset in config["datasets"]
    for s in sessions_of(dataset)
}
TARGETS = targets_of(SESSIONS.values(), config["devices"], on_skip=logger.info)
# (session row, device) pairs with a recording: one enhance job each.
SESSION_DEVICES = [
    (s, device)
    for s in SESSIONS.values()
    for device in config["devices"]
    if device in s.devices()
]


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    device="|".join(DEVICES),
    session=NAME_PATTERN,
    pid=NAME_PATTERN,
    partner="|".join(str(k) for k in range(1, PARTNERS_PER_DEVICE + 1)),
    rate=r"\d+",
    system=r"[A-Za-z0-9_.-]+",


def session_row(wildcards):
    """The manifest row of a job's (dataset, session)."""
    return SESSIONS[(wildcards.dataset, wildcards.session)]


def partners_of(wildcards):
    """The pids of a job's device partners, in seat order (partner 1, 2, 3)."""
    return session_row(wildcards).partners_of(wildcards.device)


def targets_in(dataset):
    """The targets of one dataset, in manifest order."""
    return [t for t in TARGETS if t.dataset == dataset]


# ---- paths -------------------------------------------------------------------
# Each takes wildcard patterns too: submission_path("{system}", "{dataset}", ...).
# Outputs are named relative to work_dir (the jobs' working directory), inputs
# outside it by absolute paths.


def in_data_root(template, **names):
    return f"{DATA_ROOT}/{template.format(**names)}"


def raw_device_path(dataset, session, device):
    return in_data_root(
        challenge.DEVICE_RECORDING, dataset=dataset, session=session, device=device
    )


def raw_enrolment_path(dataset, pid):
    return in_data_root(challenge.ENROLMENT, dataset=dataset, pid=pid)


def reference_path(dataset, session, device, pid):
    return in_data_root(
        challenge.REFERENCE, dataset=dataset, session=session, device=device, pid=pid
    )


def segments_path(dataset, session, device, pid):
    return in_data_root(
        challenge.SEGMENTS, dataset=dataset, session=session, device=device, pid=pid
    )


def resampled_device_path(rate, dataset, session, device):
    return f"resampled/{rate}/{device}/{dataset}/{session}.{device}.wav"


def resampled_enrolment_path(rate, dataset, pid):
    return f"resampled/{rate}/participant/{dataset}/{pid}.wav"


def device_input_path(dataset, session, device):
    """Device audio at the system's rate: raw when no resampling is needed."""
    if RATE == RAW_RATE:
        return raw_device_path(dataset, session, device)
    return resampled_device_path(RATE, dataset, session, device)


def enrolment_input_path(dataset, pid):
    if RATE == RAW_RATE:
        return raw_enrolment_path(dataset, pid)
    return resampled_enrolment_path(RATE, dataset, pid)


def partner_output_path(system, dataset, session, device, partner):
    """An enhance job's output for its partner number 1-3 (seat order): a name
    the (dataset, session, device) job knows without the pids."""
    return f"partners/{system}/{dataset}/{session}.{device}.partner{partner}.wav"


def submission_path(system, dataset, session, device, pid):
    name = challenge.SUBMISSION_FILE.format(session=session, device=device, pid=pid)
    if SCORING_ONLY and system == SYSTEM:
        return f"{SUBMISSION_DIR}/{name}"
    return f"enhanced/{system}/{dataset}/{name}"


def validation_path(system, dataset):
    if SCORING_ONLY and system == SYSTEM:
        return f"evaluation/{system}/{dataset}/validation.csv"
    return f"enhanced/{system}/{dataset}/validation.csv"


def evaluation_dir(system, dataset):
    """The official report files of a system's scores on a dataset."""
    return f"evaluation/{system}/{dataset}"


def score_table_path(system, dataset, segment_type, session, device):
    """A scoring job's segments of one type (`individual`, `summed`), per
    session and device."""
    table = SCORE_TABLE.format(
        segment_type=segment_type, session=session, device=device
    )
    return f"{evaluation_dir(system, dataset)}/{table}"


def evaluation_summary_path(system, dataset):
    return f"{evaluation_dir(system, dataset)}/summary.{dataset}.json"


def device_report_path(system, dataset, device, segment_type):
    """The official device-level report (upstream's name)."""
    return f"{evaluation_dir(system, dataset)}/report.{dataset}.{device}.{segment_type}._._.json"


def comparison_path(dataset):
    return f"evaluation/comparison.{dataset}.csv"


def report_path(system, dataset, name):
    """A figure or table made for the report (not part of the submission)."""
    return f"report/{system}/{dataset}/{name}"


def log_path(stage, name):
    return f"logs/{stage}/{name}.log"


def file_signature(path):
    """Size and modification time of a raw input: a job carrying it as a
    parameter re-runs when the file is replaced, even by an older one (cp -p,
    rsync -a, tar x), which Snakemake's 'input newer than output' misses. The
    demo's files are the generator's output, so they are named by it (they do
    not exist yet when the first run is planned)."""
    if IS_DEMO:
        return f"demo {DEMO_CODE}"
    return stat_signature(path)


def stat_signature(path):
    """Size and modification time of a file that exists when the run is planned."""
    stat = os.stat(path)
    return f"{stat.st_size} bytes, mtime {stat.st_mtime_ns} ns"


DEMO_CODE = (
    code_fingerprint([Path(enhancement.data.demo.__file__)])
    if PLANNER
    else NOT_PLANNED_HERE
)


# ---- inputs that must exist before anything runs -------------------------------


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
    return [
        f"  {as_given(p)} ({what})"
        for p, what in needed.items()
        if not Path(p).is_file()
    ]


if PLANNER and not IS_DEMO and not SCORING_ONLY and (MISSING := missing_raw_inputs()):
    raise WorkflowError(
        f"{len(MISSING)} input file(s) named by the manifest are missing under data_root "
        f"{config['data_root']}:\n"
        + "\n".join(MISSING)
        + "\nCheck data_root and the unpacked data, "
        "or leave the affected datasets/devices out (--config datasets=... devices=...)."
    )


# ---- the code a job runs (a parameter of its rule) ---------------------------


def job_code(script):
    """The `code` parameter of the jobs running workflow_scripts/<script>.py, a
    fingerprint of the script and of the package code it imports (see
    enhancement/workflow/job_code.py), worked out once when the workflow is read. A
    change re-runs those jobs (Snakemake's params rerun trigger)."""
    if not PLANNER:
        return NOT_PLANNED_HERE
    return job_code_fingerprint(
        Path(workflow.basedir, "workflow_scripts", f"{script}.py")
    )
