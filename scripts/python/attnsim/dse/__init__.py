"""Design-space exploration: sweep specs (YAML), in-process and CLI evaluators, a kill-safe
results store, local or Dask-cluster execution, Pareto and heatmap plots. See README.md here."""
