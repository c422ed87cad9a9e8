"""Reading voucher QR codes: decoder backends behind one interface and the camera capture loop.

No Qt here: the UI gets codes and preview frames through plain callbacks and re-emits them as
signals. ``cv2`` is imported lazily (see ``_cv``) so that importing this package never fails and the
Windows camera setting is in place before OpenCV loads.
"""
