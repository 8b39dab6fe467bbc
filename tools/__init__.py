"""Local runs of the provider, no AWS account needed.

- ``emulator``: one local Lambda on one virtual clock (tests, demo and bench run on it)
- ``demo``: ``make demo``, the stack lifecycle on moto's server, in simulated time
- ``bench``: ``make bench``, the waiting engine under load, in simulated time
"""
