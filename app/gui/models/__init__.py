"""The Models window: the chat model library, quantizing, adapters and comparing models."""
