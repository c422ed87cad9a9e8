"""One module per screen; :mod:`ui.screens.registry` lists the modes."""
