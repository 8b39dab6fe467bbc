"""Release tooling: the reproducible Lambda package and the checks before a deployment."""
