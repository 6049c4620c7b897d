"""The core banking system (CBS): a SOAP client for its KYC and transactions, and a simulator."""
