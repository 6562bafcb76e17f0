"""Side effects. Each rule type is one module under ``rules/``; ``registry.py`` lists them;
``orders.py`` keeps the order's row and timeline in the store."""
