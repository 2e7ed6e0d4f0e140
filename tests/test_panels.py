"""Each chapter's live panel: bound to real Config fields, starting from a valid Config, named clearly."""

import pytest

from uniq_core import panels


def test_every_chapter_with_an_experiment_has_a_panel_bound_to_its_config():
    known = panels.specs()
    assert list(known) == ["00_intro", "01_lyapunov", "02_entropy", "03_topology", "04_probes", "05_fisher", "06_dna"]
    for chapter in known:
        panel = panels.panel(chapter)  # raises if a control names an unknown field
        assert panel.config() == known[chapter].config()


def test_the_entropy_panel_can_return_to_zero_temperature():
    panel = panels.panel("02_entropy")
    panel.controls["temperature"].value = 1e-3
    panel.controls["temperature"].value = 0.0
    assert panel.config().temperature == 0.0


def test_an_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="chapter='99_none' has no panel; allowed values: 00_intro"):
        panels.panel("99_none")
