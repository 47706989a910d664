"""The hub's side of federated rounds: ``hub federate`` launches the ``federation`` package's apps.

``cli`` wires the commands; ``port`` is the ``HubPort`` the ServerApp reaches the hub through;
``simulate`` runs the apps in one process on synthetic sites; ``launch`` binds node keys on a
real SuperLink and submits the run; ``loopback`` runs a whole TLS deployment on one machine.
Importing this package imports nothing heavy.
"""
