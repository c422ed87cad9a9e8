"""The counter's use cases, free of Qt and HTTP: the card session, the ledger client and the
clock are handed in (``Counter``). Each use case ends in an ``Outcome`` that says plainly whether
points moved, will move (accepted offline), did not (refused), or are settled at sync."""
