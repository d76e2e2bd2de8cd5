"""Pump strings from changed regular expressions (ReDoS-style slow inputs)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from perfbench.mining.workloads.pumps import attack_strings, changed_patterns, pumps_for


def test_a_pump_is_a_match_of_the_pattern_without_its_terminator():
    assert attack_strings(r"<(https?://[^>]*)>") == ["<https://a", "<https://"]
    assert attack_strings(r"(\<([a-zA-Z/][^\>]*?|\!--.*?--)\>)") == ["<aa", "<a"]
    assert attack_strings(r"<([^> \!]*@[^> ]*)>")[0] == "<a@a"
    for pattern in (r"<(https?://[^>]*)>", r"\[(\d+)\]"):
        for pump in attack_strings(pattern):
            assert not re.search(pattern, pump * 3)  # it never closes
    assert attack_strings(r"(a)\1") == []  # a back reference has no simple sample
    assert attack_strings("[") == []  # not a pattern


def test_the_patterns_are_string_literals_on_changed_lines(tmp_path: Path):
    (tmp_path / "m.py").write_text(
        'import re\n\nOLD = re.compile(r"<([^>]*)>")\nNAME = "not a pattern"\n'
        'SAME = re.compile(r"[a-z]+")\n'
    )
    changes = SimpleNamespace(changed_lines={"m.py": [3, 4]})
    assert changed_patterns(tmp_path, changes) == ["<([^>]*)>"]  # NAME has no regex syntax
    assert pumps_for(tmp_path, changes) == ["<a", "<"]
    # A pattern whose every match is one repeated part has nothing left once cut.
    assert pumps_for(tmp_path, SimpleNamespace(changed_lines={"m.py": [5]})) == []
