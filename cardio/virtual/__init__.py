"""The JPKI card emulator, its test CA, and the vpcd bridge that puts it in a real PC/SC reader."""
