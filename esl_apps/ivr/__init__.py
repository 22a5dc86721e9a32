"""IVR call flows: the YAML format (flow.py, verbs/), its load-time checks
(loader.py, graph.py). The runtime that plays a flow to a caller comes later."""
