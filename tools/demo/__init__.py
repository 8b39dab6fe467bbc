"""``make demo``: the whole stack lifecycle on moto's server, on the emulator's Lambda.

- ``cli``: the command line; ``options``: what a run does; ``output``: what it shows
- ``run``: start the components, run the scenario, stop them, check leftovers
- ``scenario``: the steps (deploy, create, update, delete; or the failure path)
- ``cloudformation``: plays CloudFormation (stacks, Update/Delete requests)
- ``function``: the provider function on the emulator's Lambda, instrumented
- ``moto_server``, ``moto_patches``: moto's server and the AWS behaviour it lacks
- ``responses``: the ResponseURL of the requests the demo sends itself
- ``timeline``: what happened, on the simulated clock
"""
