"""The card and the reader: PC/SC transport, APDUs, the JPKI application, card authentication.

No Qt, no HTTP, and nothing else of ours is imported here.
"""
