"""One token names a rule type everywhere: its kind, its module, its activity, its test."""

from pathlib import Path

from activities.registry import RULE_TYPES, catalog_markdown
from activities.rule_activities import rule_activities
from automation.rules import RuleParams
from starter import readme_catalog

TESTS = Path(__file__).parent / "rules"


def test_each_rule_type_lives_in_the_module_named_after_its_kind():
    for kind, rule in RULE_TYPES.items():
        assert rule.run.__module__ == f"activities.rules.{kind}"
        assert rule.params.__module__ == f"activities.rules.{kind}"
        assert issubclass(rule.params, RuleParams)


def test_each_rule_type_has_its_test_file():
    assert {p.stem.removeprefix("test_") for p in TESTS.glob("test_*.py")} == set(RULE_TYPES)


def test_each_rule_type_is_an_activity_named_after_its_kind(deps):
    activities = rule_activities(deps)
    assert set(activities) == set(RULE_TYPES)
    assert all(getattr(fn, "__temporal_activity_definition").name == kind for kind, fn in activities.items())


def test_the_readme_catalog_is_the_registry():
    table = readme_catalog(Path(__file__).parent.parent / "README.md")
    assert table == catalog_markdown(), "regenerate it: uv run python starter.py rule-catalog --write"
