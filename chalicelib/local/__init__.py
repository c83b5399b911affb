"""The moto-backed local stack for `make run` and the tests."""
