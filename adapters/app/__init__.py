"""The composition root: the one place that names storage and the chat adapters together."""
