from pathlib import Path

from enhancement.workflow.portable import located, portable


def test_paths_inside_the_workflow_are_relative_and_come_back(tmp_path):
    workflow = tmp_path / "checkout"
    inside = workflow / "enhance_args" / "baseline.yaml"
    assert portable(inside, workflow) == "enhance_args/baseline.yaml"
    assert (
        located("enhance_args/baseline.yaml", tmp_path / "clone") == tmp_path / "clone" / "enhance_args/baseline.yaml"
    )
    assert portable(workflow, workflow) == "."


def test_paths_elsewhere_stay_absolute(tmp_path):
    outside = tmp_path / "mine" / "args.yaml"
    assert portable(outside, tmp_path / "checkout") == str(outside)
    assert located(str(outside), tmp_path / "clone") == outside
    # a sibling whose name starts with the workflow folder's is not inside it
    assert Path(portable(tmp_path / "checkout2" / "a.yaml", tmp_path / "checkout")).is_absolute()


def test_a_checkout_reached_through_a_link_is_still_the_workflow_folder(tmp_path):
    real = tmp_path / "disk" / "checkout"
    (real / "enhance_args").mkdir(parents=True)
    (real / "enhance_args" / "passthrough.yaml").write_text("name: passthrough\n")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "checkout").symlink_to(real)
    linked = tmp_path / "home" / "checkout"
    # the planner resolves the yaml's path; Snakemake may give the folder as linked
    assert portable(real / "enhance_args" / "passthrough.yaml", linked) == "enhance_args/passthrough.yaml"
    assert portable(linked / "enhance_args" / "passthrough.yaml", real) == "enhance_args/passthrough.yaml"
    assert located("enhance_args/passthrough.yaml", linked).read_text() == "name: passthrough\n"
