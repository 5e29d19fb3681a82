"""The scenario schema of each capability (``sim.scenario`` assembles them into ``Scenario``)."""
