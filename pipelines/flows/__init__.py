"""Prefect flows: each wraps one pipeline step so schedules and the Prefect UI see it."""
