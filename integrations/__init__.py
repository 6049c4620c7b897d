"""Adapters to the outside world (core banking SOAP, scoring engine REST, notification senders)
and local simulators of them. They implement the ports declared in `domain/ports.py`."""
