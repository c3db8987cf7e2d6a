"""Answers: evidence, prompt, generation, the check, and the passages cited."""
