"""Tests of the terminal core (store, config, services, offline policy)."""
