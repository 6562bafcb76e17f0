"""One token names a rule type everywhere: its spec's module, its implementation's module,
its activity, its test."""

import importlib
from pathlib import Path

from activities.registry import IMPLEMENTATIONS
from activities.rule_activities import rule_activities
from activities.rules.base import WorkerResources
from automation.rule_kinds import RULE_KINDS, catalog_markdown
from automation.rules import RuleParams
from starter import readme_catalog

TESTS = Path(__file__).parent / "rules"


def test_each_rule_type_lives_in_the_modules_named_after_its_kind() -> None:
    assert set(IMPLEMENTATIONS) == set(RULE_KINDS)
    for kind, rule in RULE_KINDS.items():
        assert importlib.import_module(f"automation.rule_kinds.{kind}").KIND is rule
        assert IMPLEMENTATIONS[kind].__module__ == f"activities.rules.{kind}"
        assert issubclass(rule.params, RuleParams)


def test_each_rule_type_has_its_test_file() -> None:
    assert {p.stem.removeprefix("test_") for p in TESTS.glob("test_*.py")} == set(RULE_KINDS)


def test_each_rule_type_is_an_activity_named_after_its_kind(deps: WorkerResources) -> None:
    activities = rule_activities(deps)
    assert set(activities) == set(RULE_KINDS)
    assert all(getattr(fn, "__temporal_activity_definition").name == kind for kind, fn in activities.items())


def test_the_readme_catalog_is_the_registry() -> None:
    table = readme_catalog(Path(__file__).parent.parent / "README.md")
    assert table == catalog_markdown(), "regenerate it: uv run python starter.py rule-catalog --write"
