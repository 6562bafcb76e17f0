"""Search attributes: what ops filter orders by in the Temporal UI and CLI
(``OrderStage = "paid"``). Ids only, never personal data: they are not encrypted."""

from temporalio.common import SearchAttributeKey

ORDER_STAGE = SearchAttributeKey.for_keyword("OrderStage")
ORDER_PIPELINE = SearchAttributeKey.for_keyword("OrderPipeline")
ORDER_RESPONSIBLE = SearchAttributeKey.for_keyword("OrderResponsible")
ORDER_CUSTOMER = SearchAttributeKey.for_keyword("OrderCustomer")
ORDER_OUTCOME = SearchAttributeKey.for_keyword("OrderOutcome")
"""``open`` until the order reaches a final stage, then ``success`` or ``failure``."""

ALL = [ORDER_STAGE, ORDER_PIPELINE, ORDER_RESPONSIBLE, ORDER_CUSTOMER, ORDER_OUTCOME]

OPEN = "open"
