"""The generic wait: any botocore waiter, or acceptors of your own (``Custom::WaitFor``).

``waiter_properties`` parses the resource against botocore's models; ``waiter`` is its
step on the waiting engine (the modules one level up), evaluating the acceptors with
botocore's own matcher code.
"""
