"""Risk factors: distance and kernel-density dummies per unit, crime-history factors, and the
same feature build chunked over a Dask cluster."""
