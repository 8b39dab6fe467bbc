"""The certificate task: request, validate, update, replace and delete ACM certificates.

``properties`` parses a ``Custom::WaitForCertificate``; ``certificate`` and ``update`` are
its steps on the waiting engine (the modules one level up); ``dns`` writes the validation
records; ``ownership`` keeps the provider to the certificates it requested.
"""
