"""Federated rounds on Flower for the shared experts (DESIGN.md, "Federated rounds").

The ServerApp (``server_app``) aggregates only ``experts`` tensors with a wrapped Flower
strategy (``strategy``) and turns the result into a draft model version on the hub
(``draft``, ``hub_io``). Site agents run the ClientApp of ``site_agent.federate``.
``inprocess`` and ``simulate`` run both apps in one process; ``deploy`` writes the Flower
app for a SuperLink. Importing this package imports nothing heavy.
"""
