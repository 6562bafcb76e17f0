"""Search attributes: what ops filter orders by in the Temporal UI and CLI
(``OrderStage = "paid"``). Ids only, never personal data: they are not encrypted."""

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from automation import limits

ORDER_STAGE = SearchAttributeKey.for_keyword("OrderStage")
ORDER_PIPELINE = SearchAttributeKey.for_keyword("OrderPipeline")
ORDER_RESPONSIBLE = SearchAttributeKey.for_keyword("OrderResponsible")
ORDER_CUSTOMER = SearchAttributeKey.for_keyword("OrderCustomer")
ORDER_OUTCOME = SearchAttributeKey.for_keyword("OrderOutcome")
"""``open`` until the order reaches a final stage, then ``success`` or ``failure``."""

ORDER_MODE = SearchAttributeKey.for_keyword("OrderMode")
"""``test`` for a test order (set at its start); a real order has none."""

ALL = [ORDER_STAGE, ORDER_PIPELINE, ORDER_RESPONSIBLE, ORDER_CUSTOMER, ORDER_OUTCOME, ORDER_MODE]

TEST = "test"

OPEN = "open"


def keyword(key: SearchAttributeKey[str], value: str | None) -> SearchAttributeUpdate[str]:
    """Sets ``key`` to ``value``, or unsets it for None, or for a value the server would
    refuse (over its size limit: then the whole upsert fails, and the order with it).
    Ids are limited at the door; this guards what orders started earlier carry."""
    if value is None or len(value.encode()) > limits.TEMPORAL_SEARCH_ATTRIBUTE_BYTES // 2:
        return key.value_unset()
    return key.value_set(value)
