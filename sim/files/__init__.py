"""Input files a scenario points to: time series (CSV/Parquet) read, checked and put on the run's steps, for
weather, measured profiles and prices. Every problem is a ``ScenarioError`` naming the file, the column or line
and what was expected."""
