"""Federated rounds on Flower over the shared experts (DESIGN.md, "Federated rounds").

One package for both sides: the ServerApp (``server_app``) with its experts-only strategy
(``strategy``), the ClientApp a site's SuperNode runs (``client_app``), the wire rules both
check (``wire``), and what launches them (``deploy``, ``supernode``, ``inprocess``). It imports
only ``models`` and ``protocols``; the hub is reached through the narrow ``hub_port.HubPort``
interface. Importing this package imports nothing heavy.
"""
