"""Enhancement systems: the registry, plugin folders and their args yamls, the
built-in systems, and running one system on a session and device (the enhance
job, with its supervision)."""
