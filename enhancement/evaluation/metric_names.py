"""Names of the official metric families and keys, and resolving the ``metrics`` config.

Apart from the scorer (``enhancement.evaluation.metrics``), so that the
workflow can refuse an unknown metric name when it plans without importing
the metric code (seconds, at every plan).
"""

from __future__ import annotations

from collections.abc import Sequence

SIGNAL_KEYS = ("sdr", "sir", "sar", "si_snr", "ci_sdr")
SEPM_KEYS = (
    "pysepm_fwsegsnr",
    "pysepm_llr",
    "pysepm_wss",
    "pysepm_cd",
    "pysepm_c_sig",
    "pysepm_c_bak",
    "pysepm_c_ovl",
    "pysepm_csii_high",
    "pysepm_csii_mid",
    "pysepm_csii_low",
    "pysepm_ncm",
)
FAMILY_KEYS: dict[str, tuple[str, ...]] = {
    "signal_metric": SIGNAL_KEYS,
    "pysepm": SEPM_KEYS,
    "pesq": ("pesq",),
    "stoi": ("stoi",),
    "dnsmos": ("dns_overall", "dns_p808"),
}
FAMILY_ORDER = tuple(FAMILY_KEYS)
METRIC_SETS: dict[str, tuple[str, ...]] = {
    "full": FAMILY_ORDER,
    "quick": ("pysepm", "pesq", "stoi"),
}
# Keys of upstream's metrics.yaml whose models are downloaded at run time.
NOT_COMPUTED = (
    "utmos",
    "nisqa_mos_pred",
    "nisqa_noi_pred",
    "nisqa_dis_pred",
    "nisqa_col_pred",
    "nisqa_loud_pred",
    "torch_squim_pesq",
    "torch_squim_stoi",
    "torch_squim_si_sdr",
    "torch_squim_mos",
)
_ALIASES = {"pseudo_mos": "dnsmos"}


def resolve_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
    """Families for ``full``, ``quick`` or a list of family or key names, in upstream order."""
    if isinstance(metrics, str):
        if metrics in METRIC_SETS:
            return METRIC_SETS[metrics]
        metrics = [metrics]
    wanted: set[str] = set()
    for name in metrics:
        name = _ALIASES.get(name, name)
        if name in FAMILY_KEYS:
            wanted.add(name)
            continue
        family = next((f for f, keys in FAMILY_KEYS.items() if name in keys), None)
        if family is None:
            if name in NOT_COMPUTED or name.startswith(("nisqa", "torch_squim")):
                raise ValueError(
                    f"metric {name!r} needs model weights downloaded at run time and is not "
                    f"computed here; choose from {sorted(FAMILY_KEYS)} or 'full'/'quick'"
                )
            raise ValueError(
                f"unknown metric {name!r}: use 'full', 'quick', or names from {sorted(FAMILY_KEYS)} or their keys"
            )
        wanted.add(family)
    if not wanted:
        raise ValueError("empty metric list: name at least one metric, or use 'full'/'quick'")
    return tuple(f for f in FAMILY_ORDER if f in wanted)
