"""The HTTP ingress: an API for services, the webhook trigger, and the tracking links."""
