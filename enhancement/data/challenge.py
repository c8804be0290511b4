"""The facts of the CHiME-9 ECHI challenge that every stage relies on.

One place for the devices, the rates and the dataset layout, so no rate or
path is spelled twice: the workflow's path functions, the enhance job, the
validator and the demo all read them from here.
"""

from __future__ import annotations

DEVICES = ("aria", "ha")
DEVICE_CHANNELS = {"aria": 7, "ha": 4}  # Aria glasses; hearing aids, 2 per ear
RAW_RATE = 48000  # device and enrolment recordings
OUTPUT_RATE = 16000  # submission files, references and segment lists
SEATS = ("pos1", "pos2", "pos3", "pos4")
PARTNERS_PER_DEVICE = len(SEATS) - 1  # everyone but the wearer

# Paths relative to data_root (the unpacked chime9_echi folder).
MANIFEST = "metadata/sessions.{dataset}.csv"
DEVICE_RECORDING = "{device}/{dataset}/{session}.{device}.wav"
ENROLMENT = "participant/{dataset}/{pid}.wav"
REFERENCE = "ref/{dataset}/{session}.{device}.{pid}.wav"
SEGMENTS = "metadata/ref/{dataset}/{session}.{device}.{pid}.csv"
# A submission file's name, inside the system's folder of a dataset.
SUBMISSION_FILE = "{session}.{device}.{pid}.wav"


def expected_length(raw_frames: int, raw_rate: int) -> int:
    """Output samples at 16 kHz for a raw recording: aligns with the references."""
    return round(raw_frames * OUTPUT_RATE / raw_rate)
