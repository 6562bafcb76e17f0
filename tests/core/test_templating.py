import pytest

from automation.templating import render


def test_missing_values_render_empty_even_deep_down() -> None:
    assert render("[{{ trigger.payload.sku }}][{{ customer.first_name }}]", {"trigger": {}}) == "[][]"


def test_the_sandbox_keeps_python_out() -> None:
    with pytest.raises(ValueError, match="template cannot be rendered"):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
