"""``make bench``: the waiting engine under load, on the emulator's Lambda in virtual time.

- ``account``: the simulated account (resources, ACM's rate limits, issuance)
- ``simulate``: one run of the real provider against it
- ``cases``: the cases and their pass/fail targets; ``report``: tables and JSON
- ``cli``: the command line (``python -m tools.bench``)
"""
