"""Printing tests: vouchers to PDF, rasterised, decoded."""
