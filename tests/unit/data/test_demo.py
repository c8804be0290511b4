import hashlib

from enhancement.data.demo import demo_files, demo_sessions
from enhancement.data.manifest import manifest_path, read_manifest


def digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_demo_is_deterministic_and_in_the_echi_layout(demo_data, passthrough_run):
    """The workflow's demo_data job (another process) wrote the same bytes as this one."""
    made_by_the_workflow = demo_files(passthrough_run / "demo_data")
    assert digest(made_by_the_workflow) == digest(demo_files(demo_data))
    # the manifest on disk is the one the workflow assumes before it exists
    assert read_manifest(manifest_path(demo_data, "dev"), "dev") == demo_sessions()
    assert any(s.wearer_seat["ha"] is None for s in demo_sessions())


def test_demo_segments_lie_inside_the_references(demo_data):
    import soundfile as sf

    for ref in (demo_data / "ref" / "dev").glob("*.wav"):
        frames = sf.info(ref).frames
        rows = (demo_data / "metadata" / "ref" / "dev" / f"{ref.stem}.csv").read_text().split()
        assert rows, ref
        for row in rows:
            index, start, end = map(int, row.split(","))
            assert 0 <= start < end <= frames
