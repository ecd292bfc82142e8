"""The integration runner's own logic: which targets go where, what the scan searches, what the run proves."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest

SUPPORT_DIR = Path(__file__).resolve().parents[2] / "support"


def load_runner():
    """Import run_integration by path: tests/support is a script directory, not a package."""
    spec = importlib.util.spec_from_file_location("run_integration", SUPPORT_DIR / "run_integration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = load_runner()


class FakeShard:
    """Stands in for a Shard: records which targets it ran, in which order."""

    def __init__(self, number, failing=(), gate=None):
        self.number = number
        self.ran = []
        self.failing = set(failing)
        self.gate = gate

    def run(self, arguments, echo):
        (target,) = arguments
        echo("Running %s integration test role\n" % target)
        if self.gate is not None and not self.ran:
            self.gate.wait(timeout=10)
        self.ran.append(target)
        return 2 if target in self.failing else 0


class Quiet:
    def __init__(self):
        self.text = []

    def write(self, text):
        self.text.append(text)


def test_longest_first_orders_known_targets_by_their_seconds():
    seconds = {"short": 10, "long": 300, "middle": 60}

    assert runner.longest_first(["short", "middle", "long"], seconds) == ["long", "middle", "short"]


def test_longest_first_puts_an_unknown_target_before_every_known_one():
    seconds = {"short": 10, "long": 300}

    assert runner.longest_first(["short", "long", "new_target"], seconds) == ["new_target", "long", "short"]


def test_longest_first_keeps_every_target_once():
    targets = sorted(runner.TARGET_SECONDS) + ["unknown_a", "unknown_b"]

    ordered = runner.longest_first(targets)

    assert sorted(ordered) == sorted(targets)
    assert ordered[:2] == ["unknown_a", "unknown_b"]


def test_run_sharded_runs_every_target_exactly_once_across_shards():
    targets = ["fault_kill", "iam_rotation_info", "playbook_rotate", "faults_throttle", "brand_new"]
    gate = threading.Barrier(2)  # each shard holds its first target until the other has one too
    shards = [FakeShard(1, gate=gate), FakeShard(2, gate=gate)]

    results = runner.run_sharded(shards, targets, Quiet())

    assert sorted(shards[0].ran + shards[1].ran) == sorted(targets)
    assert sorted(result[0] for result in results) == sorted(targets)
    assert {result[2] for result in results} == {0}


def test_run_sharded_starts_the_longest_targets_first():
    shard = FakeShard(1)

    runner.run_sharded([shard], ["iam_rotation_info", "fault_kill", "brand_new", "playbook_rotate"], Quiet())

    assert shard.ran == ["brand_new", "fault_kill", "playbook_rotate", "iam_rotation_info"]


def test_run_sharded_reports_a_failed_target_and_still_runs_the_rest():
    shard = FakeShard(1, failing={"fault_kill"})
    console = Quiet()

    results = runner.run_sharded([shard], ["fault_kill", "playbook_rotate"], console)

    assert [(target, code) for target, _number, code, _seconds in results] == [("fault_kill", 2),
                                                                               ("playbook_rotate", 0)]
    assert "--- shard 1: fault_kill FAILED in 0 s\n" in "".join(console.text)


def test_run_sharded_prints_each_target_as_one_block():
    shard = FakeShard(1)
    console = Quiet()

    runner.run_sharded([shard], ["playbook_rotate"], console)

    assert console.text == ["\n--- shard 1: playbook_rotate\n",
                            "Running playbook_rotate integration test role\n"
                            "--- shard 1: playbook_rotate passed in 0 s\n"]


@pytest.mark.parametrize("selection, whole", [
    ([], True),
    (["faults/"], True),
    (["--exclude", "faults/"], True),
    (["fault_kill"], False),
    (["--exclude", "faults/", "playbook_rotate"], False),
])
def test_selects_whole_groups(selection, whole):
    assert runner.selects_whole_groups(selection) is whole


@pytest.mark.parametrize("line, noise", [
    ("<127.0.0.1> EXEC /bin/sh -c 'echo ~'\n", True),
    ("Using module file /x/iam_access_key_rotate.py\n", True),
    ("TASK [iam_access_key_rotate : Rotate] ****\n", False),
    ("FATAL: Command \"./runme.sh -vvvv\" returned exit status 1.\n", False),
])
def test_is_noise(line, noise):
    assert runner.is_noise(line) is noise


def test_find_leaks_names_each_secret_and_file_it_appears_in(tmp_path):
    clean = tmp_path / "clean.log"
    clean.write_text("nothing to see\n")
    leaky = tmp_path / "leaky.log"
    leaky.write_text("key: s3cret-two\n")

    assert runner.find_leaks(["s3cret-one", "s3cret-two", ""], [clean, leaky]) == [(1, leaky)]


def test_parse_args_takes_jobs_and_passes_the_selection_through_in_order(monkeypatch):
    monkeypatch.delenv("ROTATOR_IT_JOBS", raising=False)

    options, selection = runner.parse_args(["--jobs", "3", "--exclude", "faults/", "--timings", "t.txt",
                                            "playbook_rotate"])

    assert (options.jobs, options.timings, selection) == (3, "t.txt", ["--exclude", "faults/", "playbook_rotate"])


def test_parse_args_defaults_to_the_environment_then_two(monkeypatch):
    monkeypatch.delenv("ROTATOR_IT_JOBS", raising=False)
    options, selection = runner.parse_args(["faults/"])
    assert (options.jobs, options.timings, selection) == (2, None, ["faults/"])

    monkeypatch.setenv("ROTATOR_IT_JOBS", "1")
    assert runner.parse_args(["faults/"])[0].jobs == 1


def test_parse_args_refuses_zero_jobs(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        runner.parse_args(["--jobs", "0"])

    assert "--jobs must be 1 or more" in capsys.readouterr().err


def test_shard_lines_give_each_shard_its_targets_and_seconds():
    results = [("fault_kill", 1, 0, 201.4), ("least_privilege", 2, 0, 40.2), ("concurrent_runs", 2, 2, 45.9)]

    assert runner.shard_lines(results, [1, 2, 3]) == [
        "shard 1    1 targets   201 s  (fault_kill)",
        "shard 2    2 targets    86 s  (least_privilege concurrent_runs)",
        "shard 3    0 targets     0 s  ()",
    ]


class SetUpWatch(FakeShard):
    """A shard whose ansible-test is held in its set-up until released."""

    def __init__(self, number, release):
        super().__init__(number)
        self.release = release

    def run(self, arguments, echo):
        self.release.wait(timeout=10)
        return super().run(arguments, echo)


def test_run_sharded_starts_the_second_shard_once_the_first_is_past_its_set_up():
    release = threading.Event()
    first = SetUpWatch(1, release)
    second = FakeShard(2)
    thread = threading.Thread(target=runner.run_sharded, args=([first, second], ["fault_kill", "playbook_rotate"],
                                                               Quiet()))
    thread.start()
    thread.join(timeout=0.3)
    held = list(second.ran)
    release.set()
    thread.join(timeout=10)

    assert held == []
    assert sorted(first.ran + second.ran) == ["fault_kill", "playbook_rotate"]
