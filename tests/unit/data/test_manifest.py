from pathlib import Path

import pytest

from enhancement.data.manifest import ManifestError, Target, read_manifest, spread, targets_of

HEADER = "session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "sessions.dev.csv"
    path.write_text(header + body)
    return path


def test_partners_are_the_other_three_seats(tmp_path):
    sessions = read_manifest(write(tmp_path, "dev_02,2,4,P1,P2,P3,P4\n"), "dev")
    assert sessions[0].partners_of("aria") == ["P1", "P3", "P4"]
    assert sessions[0].partners_of("ha") == ["P1", "P2", "P3"]


def test_targets_skip_missing_device_once_each(tmp_path):
    path = write(tmp_path, "s1,1,,A,B,C,D\ns2,,,E,F,G,H\ns3,3,1,I,J,K,L\n")
    skipped = []
    targets = targets_of(read_manifest(path, "dev"), ["aria", "ha"], on_skip=skipped.append)
    assert targets == [
        Target("dev", "s1", "aria", "B"),
        Target("dev", "s1", "aria", "C"),
        Target("dev", "s1", "aria", "D"),
        Target("dev", "s3", "aria", "I"),
        Target("dev", "s3", "aria", "J"),
        Target("dev", "s3", "aria", "L"),
        Target("dev", "s3", "ha", "J"),
        Target("dev", "s3", "ha", "K"),
        Target("dev", "s3", "ha", "L"),
    ]
    assert len(skipped) == 3 and "s1: no ha recording" in skipped[0]


def test_spread_covers_sessions_and_devices_before_partners(tmp_path):
    path = write(tmp_path, "s1,1,2,A,B,C,D\ns2,1,,E,F,G,H\ns3,4,1,I,J,K,L\n")
    targets = targets_of(read_manifest(path, "dev"), ["aria", "ha"], on_skip=lambda _: None)
    assert spread(targets, 4) == [
        Target("dev", "s1", "aria", "B"),
        Target("dev", "s1", "ha", "A"),
        Target("dev", "s2", "aria", "F"),
        Target("dev", "s3", "aria", "I"),
    ]
    assert spread(targets, 6)[4:] == [Target("dev", "s3", "ha", "J"), Target("dev", "s1", "aria", "C")]
    assert sorted(spread(targets, 100)) == sorted(targets) and spread(targets, 0) == []


def test_devices_filter(tmp_path):
    path = write(tmp_path, "s1,1,2,A,B,C,D\n")
    assert {t.device for t in targets_of(read_manifest(path, "dev"), ["ha"])} == {"ha"}


def test_wearer_pid_may_be_empty(tmp_path):
    sessions = read_manifest(write(tmp_path, "s1,1,,,B,C,D\n"), "dev")
    assert sessions[0].partners_of("aria") == ["B", "C", "D"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ("s1,5,,A,B,C,D\n", r"row 2 \(session s1\): field 'aria_pos' = '5' is not a seat"),
        ("s1,x,,A,B,C,D\n", r"field 'aria_pos' = 'x'"),
        ("s1,1,,A,,C,D\n", r"row 2 \(session s1\): field 'pos2' is empty"),
        ("s1,1,,A,B,C,D\ns1,2,,A,B,C,D\n", r"row 3 \(session s1\): duplicate session, already on row 2"),
        ("../x,1,,A,B,C,D\n", r"row 2: field 'session' '../x' is not a valid name"),
        ("s 1,1,,A,B,C,D\n", r"field 'session' 's 1'"),
        ("s1,1,,A,B/C,C,D\n", r"field 'pos2' 'B/C' is not a valid name"),
        ("s1,1,,A,B,C,..\n", r"field 'pos4' '..'"),
        (",1,,A,B,C,D\n", r"field 'session' ''"),
    ],
)
def test_bad_rows_name_file_row_and_field(tmp_path, body, expected):
    path = write(tmp_path, body)
    with pytest.raises(ManifestError, match=expected) as err:
        read_manifest(path, "dev")
    assert str(path) in str(err.value)


def test_missing_column(tmp_path):
    path = write(tmp_path, "s1,1,A,B,C,D\n", header="session,aria_pos,pos1,pos2,pos3,pos4\n")
    with pytest.raises(ManifestError, match=r"missing column\(s\) \['ha_pos'\]"):
        read_manifest(path, "dev")


def test_missing_file_says_what_to_check(tmp_path):
    with pytest.raises(ManifestError, match="not found: check data_root and datasets"):
        read_manifest(tmp_path / "nope.csv", "dev")


def test_utf8_byte_order_mark_and_spaces_around_column_names_are_accepted(tmp_path):
    path = tmp_path / "sessions.dev.csv"
    path.write_bytes(("\ufeff" + HEADER.replace(",", ", ") + "s1,1,2,A,B,C,D\n").encode("utf-8"))
    sessions = read_manifest(path, "dev")
    assert sessions[0].session == "s1" and sessions[0].partners_of("ha") == ["A", "C", "D"]


def test_missing_column_names_the_header_found(tmp_path):
    path = write(tmp_path, "s1,1,2,A,B,C,D\n", header="session,aria pos,ha_pos,pos1,pos2,pos3,pos4\n")
    with pytest.raises(
        ManifestError,
        match=r"missing column\(s\) \['aria_pos'\] in the header found, "
        r"\['session', 'aria pos', 'ha_pos'",
    ):
        read_manifest(path, "dev")


def test_non_utf8_byte_names_file_and_line(tmp_path):
    path = tmp_path / "sessions.dev.csv"
    path.write_bytes((HEADER + "s1,1,2,A,B,C,D\n").encode() + "s2,1,2,Jos\xe9,B,C,D\n".encode("latin-1"))
    with pytest.raises(ManifestError, match=r"sessions.dev.csv, line 3: byte b'\\xe9' is not UTF-8 text"):
        read_manifest(path, "dev")


@pytest.mark.parametrize(
    "text, expected",
    [
        (HEADER, r"sessions.dev.csv lists no sessions \(it has only its header\)"),
        (HEADER + "\n \n", r"sessions.dev.csv lists no sessions"),
        ("", r"sessions.dev.csv is empty; its first line must be the header"),
    ],
)
def test_manifest_without_sessions_is_an_error(tmp_path, text, expected):
    path = tmp_path / "sessions.dev.csv"
    path.write_text(text)
    with pytest.raises(ManifestError, match=expected):
        read_manifest(path, "dev")


def test_duplicate_column_is_an_error(tmp_path):
    path = write(tmp_path, "s1,1,2,A,B,C,D,E\n", header=HEADER.strip() + ",pos2\n")
    with pytest.raises(ManifestError, match=r"sessions.dev.csv: column\(s\) \['pos2'\] appear more than once"):
        read_manifest(path, "dev")


@pytest.mark.parametrize("body", ["s1,1,2,A,B,C,D,E\n", "s1,1,2,A,B,C\n"])
def test_row_with_other_field_count_than_the_header_names_the_row(tmp_path, body):
    path = write(tmp_path, "s0,1,2,A,B,C,D\n" + body)
    with pytest.raises(ManifestError, match=r"sessions.dev.csv, row 3: \d fields where the header has 7"):
        read_manifest(path, "dev")


@pytest.mark.parametrize(
    "body, expected",
    [
        # the aria wearer (seat 1) also at a partner's seat: a file would be made for the wearer
        (
            "s1,1,3,A,A,C,D\n",
            (
                r"row 2 \(session s1\): field 'pos2' = 'A' is also at seat 1 "
                r"\(field 'pos1', the aria wearer\)"
            ),
        ),
        # one pid at two partner seats: two targets with one file name
        ("s1,1,,A,B,B,D\n", r"row 2 \(session s1\): field 'pos3' = 'B' is also at seat 2 \(field 'pos2'\)"),
        ("s1,2,2,A,B,C,D\n", r"row 2 \(session s1\): field 'ha_pos' = '2' is also aria_pos"),
    ],
)
def test_one_participant_at_two_seats_or_two_devices_on_one_wearer(tmp_path, body, expected):
    path = write(tmp_path, body)
    with pytest.raises(ManifestError, match=expected) as err:
        read_manifest(path, "dev")
    assert str(path) in str(err.value)


def test_one_participant_in_several_sessions_is_fine(tmp_path):
    sessions = read_manifest(write(tmp_path, "s1,1,2,A,B,C,D\ns2,3,4,D,C,B,A\n"), "dev")
    assert [s.session for s in sessions] == ["s1", "s2"]


def test_a_targets_files_follow_the_challenge_layout(tmp_path):
    from enhancement.data.challenge import REFERENCE, SEGMENTS

    target = Target("dev", "dev_01", "ha", "P4")
    assert target.stem == "dev_01.ha.P4"
    assert target.in_data_root(tmp_path, REFERENCE) == tmp_path / "ref/dev/dev_01.ha.P4.wav"
    assert target.in_data_root(str(tmp_path), SEGMENTS) == tmp_path / "metadata/ref/dev/dev_01.ha.P4.csv"
