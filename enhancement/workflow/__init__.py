"""What ties the package to Snakemake: the command-line entry points, the
checks made when a run is planned, code fingerprints of the jobs, job logs,
and passing a stop on to running jobs."""
