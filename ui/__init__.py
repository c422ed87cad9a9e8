"""The PySide6 desktop application (windows, views, workers, printing)."""
