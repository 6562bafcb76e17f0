"""The API's routes, one router per area: orders and their events, customers and contacts,
webhooks, tracking links."""
