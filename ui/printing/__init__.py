"""Printing: vouchers and the printer test page on QPrinter and QPdfWriter (one QPainter path)."""
