"""The capabilities, one package each; the registry that lists them is ``sim.registry``."""
