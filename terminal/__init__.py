"""The counter's use cases and its durable local state. No Qt, no HTTP."""
