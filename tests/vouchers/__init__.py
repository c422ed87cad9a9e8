"""Voucher tests: numbers, payload, verification, counter services and the CLI."""
