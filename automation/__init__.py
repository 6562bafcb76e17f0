"""The deterministic core of the order engine: pipelines, events, triggers, conditions.

Everything in this package is pure: workflow code imports it, so it never does I/O,
never reads the clock and never draws random numbers.
"""

TASK_QUEUE = "order-automation"
