"""The action journal: atomic appends, ordered replay, torn lines, clear replay failures."""

import json
import os

import pytest

from aivle_k8s.widgets.journal import Journal, JournalReplayError, journal_path


class FakeWorld:
    """Anything weak-referenceable stands for a world here."""


@pytest.fixture
def journal(tmp_path):
    return Journal(tmp_path / ".lab3.journal.jsonl")


def test_default_path_is_a_dotfile_beside_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert journal_path("lab3") == tmp_path / ".lab3.journal.jsonl"
    assert Journal.for_lab("lab3").path == tmp_path / ".lab3.journal.jsonl"


def test_entries_have_seq_widget_action_args_and_no_time(journal):
    journal.append("docker-playground", "build", {"tag": "app:1"})
    line = journal.path.read_text().splitlines()[0]
    assert json.loads(line) == {"seq": 1, "widget": "docker-playground", "action": "build", "args": {"tag": "app:1"}}


def test_replay_applies_entries_in_order(journal):
    for i in range(5):
        journal.append("w", "add", {"n": i})
    seen = []
    assert journal.replay("w", {"add": lambda n: seen.append(n)}, world=FakeWorld()) == 5
    assert seen == [0, 1, 2, 3, 4]


def test_replay_only_takes_the_widgets_own_entries(journal):
    journal.append("a", "x", {"v": 1})
    journal.append("b", "x", {"v": 2})
    seen = []
    journal.replay("b", {"x": lambda v: seen.append(v)}, world=FakeWorld())
    assert seen == [2]


def test_an_entry_is_applied_once_per_world(journal):
    world = FakeWorld()
    journal.append("w", "add", {"n": 1}, world=world)  # performed on this world already
    journal.append("w", "add", {"n": 2})
    seen = []
    journal.replay("w", {"add": lambda n: seen.append(n)}, world=world)
    journal.replay("w", {"add": lambda n: seen.append(n)}, world=world)
    assert seen == [2]
    other = []
    Journal(journal.path).replay("w", {"add": lambda n: other.append(n)}, world=FakeWorld())
    assert other == [1, 2]  # a new world gets the whole journal


def test_a_crash_mid_write_leaves_earlier_entries_intact(journal, monkeypatch):
    journal.append("w", "add", {"n": 1})
    journal.append("w", "add", {"n": 2})
    before = journal.path.read_bytes()

    def crash(*_args, **_kwargs):
        raise OSError("kernel died")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        journal.append("w", "add", {"n": 3})
    assert journal.path.read_bytes() == before
    assert [e["args"]["n"] for e in journal.entries()] == [1, 2]
    assert not [p for p in journal.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_torn_last_line_is_skipped_with_a_warning(journal):
    journal.append("w", "add", {"n": 1})
    with open(journal.path, "ab") as f:
        f.write(b'{"seq": 2, "widget": "w", "act')
    assert [e["seq"] for e in journal.entries()] == [1]
    assert "torn last line" in journal.warnings[0]


def test_appending_after_a_torn_line_keeps_the_file_readable(journal):
    journal.append("w", "add", {"n": 1})
    with open(journal.path, "ab") as f:
        f.write(b'{"seq": 2, "wid')
    journal.append("w", "add", {"n": 3})
    assert [e["args"]["n"] for e in journal.entries()] == [1, 3]
    assert journal.warnings == []


def test_an_invalid_entry_stops_replay_with_a_clear_message(journal):
    journal.append("docker-playground", "build", {"tag": "app:1"})
    journal.append("docker-playground", "pull", {"reference": "nope:1"})
    journal.append("docker-playground", "build", {"tag": "app:2"})
    done = []

    def pull(reference):
        raise ValueError(f"No such image: {reference}")

    with pytest.raises(JournalReplayError) as info:
        journal.replay("docker-playground", {"build": lambda tag: done.append(tag), "pull": pull},
                       world=FakeWorld())
    assert str(info.value) == ("journal entry 2 (docker-playground: pull) could not be replayed: "
                               "No such image: nope:1")
    assert done == ["app:1"]  # stopped there: entry 3 was not tried


def test_reset_starts_over(journal):
    journal.append("a", "x", {})
    journal.append("b", "x", {})
    assert journal.reset("a") == 1
    assert [e["widget"] for e in journal.entries()] == ["b"]
    assert journal.reset() == 1
    assert journal.entries() == []


def test_args_must_be_json(journal):
    with pytest.raises(TypeError):
        journal.append("w", "x", {"obj": object()})
    assert not journal.path.exists()
